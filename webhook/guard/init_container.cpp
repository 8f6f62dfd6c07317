#include "guard/init_container.hpp"

#include "guard/pod_json.hpp"
#include "guard/uninstall_wrapper.hpp"
#include "guard/wait_flags.hpp"
#include "support/duration.hpp"

namespace lug::guard {
namespace {

using json = nlohmann::json;

std::string flag(const char* name) { return std::string("--") + name; }

bool is_token_volume(const json& volume) {
  // Kubernetes >= 1.22: a projected volume with a serviceAccountToken source.
  const json& sources = member(member(volume, "projected"), "sources");
  if (sources.is_array()) {
    for (const auto& source : sources) {
      if (member(source, "serviceAccountToken").is_object()) return true;
    }
  }
  return false;
}

std::optional<std::string> mount_path_of(const json& pod_spec, const std::string& volume) {
  for (const char* list : {"containers", "initContainers"}) {
    const json& containers = member(pod_spec, list);
    if (!containers.is_array()) continue;
    for (const auto& container : containers) {
      const json& mounts = member(container, "volumeMounts");
      if (!mounts.is_array()) continue;
      for (const auto& mount : mounts) {
        const json& name = member(mount, "name");
        const json& path = member(mount, "mountPath");
        if (name.is_string() && path.is_string() && name.get_ref<const std::string&>() == volume) {
          return path.get<std::string>();
        }
      }
    }
  }
  return std::nullopt;
}

}  // namespace

std::optional<token_mount> find_token_mount(const json& pod) {
  const json& spec = member(pod, "spec");
  const json& volumes = member(spec, "volumes");
  if (volumes.is_array()) {
    for (const auto& volume : volumes) {
      const json& name = member(volume, "name");
      if (!name.is_string() || !is_token_volume(volume)) continue;
      const auto& volume_name = name.get_ref<const std::string&>();
      return token_mount{volume_name, mount_path_of(spec, volume_name).value_or(default_token_mount_path)};
    }
    // A legacy secret-based token: recognised by the mount at the default path.
    for (const auto& volume : volumes) {
      const json& name = member(volume, "name");
      if (!name.is_string() || !member(volume, "secret").is_object()) continue;
      const auto path = mount_path_of(spec, name.get<std::string>());
      if (path && *path == default_token_mount_path) return token_mount{name.get<std::string>(), *path};
    }
  }
  return std::nullopt;
}

bool has_init_container(const json& pod) {
  const json& init_containers = member(member(pod, "spec"), "initContainers");
  if (!init_containers.is_array()) return false;
  for (const auto& container : init_containers) {
    const json& name = member(container, "name");
    if (name.is_string() && name.get_ref<const std::string&>() == init_container_name) return true;
  }
  return false;
}

json make_init_container(const init_container_spec& spec, const token_mount& token, bool install_supervisor) {
  json container{
      {"name", init_container_name},
      {"image", spec.image},
      {"imagePullPolicy", "IfNotPresent"},
      {"command", json::array({binary_path})},
      {"args", json::array({wait_flags::command, flag(wait_flags::setting_namespace), spec.setting.namespace_name,
                            flag(wait_flags::setting_name), spec.setting.name, flag(wait_flags::setting_api_version),
                            spec.setting.api_version, flag(wait_flags::poll_interval),
                            format_duration(spec.poll_interval), flag(wait_flags::settle),
                            format_duration(spec.settle)})},
      {"resources",
       {{"requests", {{"cpu", "10m"}, {"memory", "16Mi"}}}, {"limits", {{"cpu", "100m"}, {"memory", "64Mi"}}}}},
      {"securityContext",
       {{"runAsNonRoot", true},
        {"runAsUser", init_container_uid},
        {"runAsGroup", init_container_uid},
        {"allowPrivilegeEscalation", false},
        {"privileged", false},
        {"readOnlyRootFilesystem", true},
        {"capabilities", {{"drop", json::array({"ALL"})}}},
        {"seccompProfile", {{"type", "RuntimeDefault"}}}}},
      {"volumeMounts", json::array({{{"name", token.volume_name}, {"mountPath", token.mount_path}, {"readOnly", true}}})},
      {"terminationMessagePolicy", "FallbackToLogsOnError"},
  };
  if (install_supervisor) {
    container["args"].push_back(flag(wait_flags::install_supervisor));
    container["args"].push_back(supervisor_installed_path);
    container["volumeMounts"].push_back({{"name", supervisor_volume_name}, {"mountPath", supervisor_mount_path}});
  }
  return container;
}

admission::json_patch injection_patch(const json& pod, const json& container) {
  admission::json_patch patch;
  const json& init_containers = member(member(pod, "spec"), "initContainers");
  if (init_containers.is_array() && !init_containers.empty()) {
    patch.add("/spec/initContainers/0", container);
  } else {
    patch.add("/spec/initContainers", json::array({container}));
  }
  return patch;
}

}  // namespace lug::guard
