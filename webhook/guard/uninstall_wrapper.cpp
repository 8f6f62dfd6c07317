#include "guard/uninstall_wrapper.hpp"

#include "guard/pod_json.hpp"

#include <string_view>

namespace lug::guard {
namespace {

using json = nlohmann::json;

std::string_view base_name(std::string_view path) {
  const auto slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

bool holds_uninstall(const json& list, std::size_t from) {
  if (!list.is_array()) return false;
  for (std::size_t i = from; i < list.size(); ++i) {
    if (list[i].is_string() && list[i].get_ref<const std::string&>() == "uninstall") return true;
  }
  return false;
}

bool has_volume(const json& pod) {
  const json& volumes = member(member(pod, "spec"), "volumes");
  if (!volumes.is_array()) return false;
  for (const auto& volume : volumes) {
    const json& name = member(volume, "name");
    if (name.is_string() && name.get_ref<const std::string&>() == supervisor_volume_name) return true;
  }
  return false;
}

bool mounts_volume(const json& container) {
  const json& mounts = member(container, "volumeMounts");
  if (!mounts.is_array()) return false;
  for (const auto& mount : mounts) {
    const json& name = member(mount, "name");
    if (name.is_string() && name.get_ref<const std::string&>() == supervisor_volume_name) return true;
  }
  return false;
}

std::string not_wrapped_warning(const json& container, command_kind kind) {
  const json& name = member(container, "name");
  std::string who = name.is_string() ? "container \"" + name.get<std::string>() + "\"" : std::string("a container");
  std::string what;
  if (kind == command_kind::none) {
    what = " has no command (its image's entrypoint runs, which the guard cannot see)";
  } else {
    const json& first = member(container, "command").at(0);
    std::string program = first.is_string() ? first.get<std::string>() : first.dump();
    if (program.size() > warning_command_chars) program = program.substr(0, warning_command_chars) + "...";
    what = " runs \"" + program + "\", not longhorn-manager uninstall";
  }
  return "longhorn-uninstall-guard: " + who + what +
         ", so it does not run under the supervisor that retries longhorn-manager's premature "
         "deleting-confirmation-flag refusal (longhorn/longhorn#10483)";
}

}  // namespace

command_kind classify_command(const json& container) {
  const json& command = member(container, "command");
  if (!command.is_array() || command.empty()) return command_kind::none;
  if (!command[0].is_string()) return command_kind::other;
  const auto& program = command[0].get_ref<const std::string&>();
  if (program == supervisor_installed_path) return command_kind::wrapped;
  if (base_name(program) != "longhorn-manager") return command_kind::other;
  if (holds_uninstall(command, 1) || holds_uninstall(member(container, "args"), 0)) return command_kind::uninstall;
  return command_kind::other;
}

wrap_plan plan_wrap(const json& pod, const supervisor_wrap& options) {
  wrap_plan plan;
  if (!options.enabled) return plan;
  const json& containers = member(member(pod, "spec"), "containers");
  if (!containers.is_array()) return plan;
  std::vector<std::string> reasons;
  for (std::size_t i = 0; i < containers.size(); ++i) {
    const auto kind = classify_command(containers[i]);
    if (kind == command_kind::uninstall || kind == command_kind::wrapped) {
      if (kind == command_kind::uninstall) plan.to_wrap.push_back(i);
      if (!mounts_volume(containers[i])) plan.to_mount.push_back(i);
      plan.install = true;
    } else {
      reasons.push_back(not_wrapped_warning(containers[i], kind));
    }
  }
  // A sidecar beside the uninstall container is simply not ours: warn only when nothing
  // runs under the supervisor.
  if (!plan.install) plan.warnings = std::move(reasons);
  plan.add_volume = plan.install && !has_volume(pod);
  return plan;
}

json wrapped_command(const json& command, int attempts) {
  json wrapped = json::array({supervisor_installed_path, "--attempts=" + std::to_string(attempts), "--"});
  for (const auto& part : command) wrapped.push_back(part);
  return wrapped;
}

void add_wrap_operations(admission::json_patch& patch, const json& pod, const wrap_plan& plan,
                         const supervisor_wrap& options) {
  const json& spec = member(pod, "spec");
  if (plan.add_volume) {
    const json volume = {{"name", supervisor_volume_name}, {"emptyDir", {{"sizeLimit", supervisor_volume_size_limit}}}};
    const json& volumes = member(spec, "volumes");
    if (volumes.is_array() && !volumes.empty()) {
      patch.add("/spec/volumes/-", volume);
    } else {
      patch.add("/spec/volumes", json::array({volume}));
    }
  }
  const json& containers = member(spec, "containers");
  for (const auto index : plan.to_mount) {
    const json mount = {{"name", supervisor_volume_name}, {"mountPath", supervisor_mount_path}, {"readOnly", true}};
    const auto base = "/spec/containers/" + std::to_string(index);
    const json& mounts = member(containers[index], "volumeMounts");
    if (mounts.is_array() && !mounts.empty()) {
      patch.add(base + "/volumeMounts/-", mount);
    } else {
      patch.add(base + "/volumeMounts", json::array({mount}));
    }
  }
  for (const auto index : plan.to_wrap) {
    patch.replace("/spec/containers/" + std::to_string(index) + "/command",
                  wrapped_command(member(containers[index], "command"), options.attempts));
  }
}

}  // namespace lug::guard
