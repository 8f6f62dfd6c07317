// The init container the mutating webhook puts in front of longhorn-manager's uninstall
// container: this project's own binary running `wait`, which returns only once the
// setting reads true both fresh and through the API server's watch cache (what
// longhorn-manager's informer will see), plus a settle delay.
//
// It runs with the restricted Pod Security profile (non-root, no privilege escalation,
// all capabilities dropped, read-only root filesystem, RuntimeDefault seccomp) and small
// resources, and mounts the pod's own service-account token volume read-only: the
// ServiceAccount admission plugin has already run when webhooks see the pod, so it will
// not add that mount to a container injected now.
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "admission/json_patch.hpp"
#include "guard/setting_ref.hpp"

namespace lug::guard {

inline constexpr const char* init_container_name = "wait-for-deleting-confirmation";
// Where the image installs the binary (see the Dockerfile).
inline constexpr const char* binary_path = "/usr/local/bin/longhorn-uninstall-guard";
// The image's unprivileged user; set explicitly because a pod-level runAsUser: 0 would
// otherwise override the image's USER and fail runAsNonRoot.
inline constexpr int init_container_uid = 65532;
// Where Kubernetes mounts the service-account token for every container by default.
inline constexpr const char* default_token_mount_path = "/var/run/secrets/kubernetes.io/serviceaccount";

struct init_container_spec {
  std::string image;
  setting_ref setting{};
  // No settle by default: measured on a real control plane (tests/cluster, README "Results"),
  // a 10 s settle after the flag read true everywhere left the failure rate where it was,
  // because the race is inside the uninstall container, after it starts (its Settings
  // informer not yet synced when it checks the flag). The supervisor closes that race; the
  // wait still holds the container until the flag reads true, which costs one read pair when
  // it already does.
  std::chrono::nanoseconds settle = std::chrono::seconds(0);
  std::chrono::nanoseconds poll_interval = std::chrono::seconds(1);
};

struct token_mount {
  std::string volume_name;
  std::string mount_path;
};

// The service-account token volume of a pod and where its containers mount it;
// nullopt when the pod mounts no token (automountServiceAccountToken: false).
std::optional<token_mount> find_token_mount(const nlohmann::json& pod);

bool has_init_container(const nlohmann::json& pod);

// With install_supervisor, the container also mounts the supervisor's volume read-write and
// `wait` copies the supervisor into it before waiting (guard/uninstall_wrapper.hpp).
nlohmann::json make_init_container(const init_container_spec& spec, const token_mount& token,
                                   bool install_supervisor);

// The RFC 6902 patch that puts the container first among the pod's init containers,
// creating /spec/initContainers when the pod has none.
admission::json_patch injection_patch(const nlohmann::json& pod, const nlohmann::json& container);

}  // namespace lug::guard
