// Running longhorn-manager's uninstall under longhorn-uninstall-supervisor.
//
// The hold and the init container make sure the flag is true before the uninstall container
// starts; they cannot reach inside it, where longhorn-manager checks the flag through a
// Settings informer it never waited for (longhorn/longhorn#10483). The supervisor can: it
// runs the command again after that premature refusal (supervisor/retry_rule.hpp). The
// mutation ships it the way Tekton ships its entrypoint into step containers: an emptyDir
// volume, the init container (our image) copying the binary into it, and the uninstall
// container mounting it read-only with its command rewritten to
//
//   [/run/longhorn-uninstall-guard/longhorn-uninstall-supervisor, --attempts=N, --, <command...>]
//
// and its args untouched. Only a container whose command runs longhorn-manager's uninstall
// is rewritten: without a command the image's entrypoint runs, which the guard cannot see,
// and any other command is not ours to wrap; both leave the pod as it is, with a warning.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "admission/json_patch.hpp"
#include "supervisor/retry_rule.hpp"

namespace lug::guard {

inline constexpr const char* supervisor_volume_name = "longhorn-uninstall-supervisor";
// Under /run, which holds run-time files and which no longhorn-manager image uses.
inline constexpr const char* supervisor_mount_path = "/run/longhorn-uninstall-guard";
// Where the image installs it, beside the guard (see the Dockerfile).
inline constexpr const char* supervisor_image_path = "/usr/local/bin/longhorn-uninstall-supervisor";
inline constexpr const char* supervisor_installed_path =
    "/run/longhorn-uninstall-guard/longhorn-uninstall-supervisor";
// The volume's sizeLimit: the static binary is about 0.9 MB stripped as the image ships it,
// 1.8 MB with debug symbols (the test build); 8Mi is room for growth, with the temporary
// copy the install renames, and still nothing to the node's ephemeral storage.
inline constexpr const char* supervisor_volume_size_limit = "8Mi";
// How much of a foreign command[0] a warning quotes: the API server cuts warnings beyond
// its 4096-character budget to 256 characters each.
inline constexpr std::size_t warning_command_chars = 64;

struct supervisor_wrap {
  bool enabled = true;  // serve --wrap-uninstall
  int attempts = supervisor::default_attempts;  // serve --supervisor-attempts
};

// What a container's command is, for wrapping.
enum class command_kind {
  uninstall,   // base name of command[0] is longhorn-manager, `uninstall` among the rest and args
  wrapped,     // already runs under the supervisor (a reinvocation, or a pod copied from one)
  none,        // no command: the image's entrypoint runs
  other,       // anything else
};

command_kind classify_command(const nlohmann::json& container);

// The containers of spec.containers to rewrite, and what the supervisor needs.
struct wrap_plan {
  std::vector<std::size_t> to_wrap;  // indexes of containers whose command is rewritten now
  std::vector<std::size_t> to_mount;  // indexes of containers that need the volume mounted
  bool install = false;               // the init container must install the supervisor
  bool add_volume = false;            // the pod lacks the volume
  std::vector<std::string> warnings;  // why nothing runs under the supervisor, if so
};

wrap_plan plan_wrap(const nlohmann::json& pod, const supervisor_wrap& options);

// [installed path, --attempts=N, --, command...]
nlohmann::json wrapped_command(const nlohmann::json& command, int attempts);

// Adds the plan's volume, mounts and rewritten commands to patch (the init container is the
// caller's, see init_container.hpp).
void add_wrap_operations(admission::json_patch& patch, const nlohmann::json& pod, const wrap_plan& plan,
                         const supervisor_wrap& options);

}  // namespace lug::guard
