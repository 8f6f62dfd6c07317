#include "guard/scope.hpp"

namespace lug::guard {
namespace {

using json = nlohmann::json;

const json* find_member(const json& object, const char* key) {
  if (!object.is_object()) return nullptr;
  const auto it = object.find(key);
  return it == object.end() ? nullptr : &*it;
}

bool string_equals(const json* value, const std::string& expected) {
  return value != nullptr && value->is_string() && value->get_ref<const std::string&>() == expected;
}

bool label_names_job(const json& metadata, const std::string& job) {
  const json* labels = find_member(metadata, "labels");
  if (labels == nullptr) return false;
  return string_equals(find_member(*labels, "job-name"), job) ||
         string_equals(find_member(*labels, "batch.kubernetes.io/job-name"), job);
}

bool owner_is_job(const json& metadata, const std::string& job) {
  const json* owners = find_member(metadata, "ownerReferences");
  if (owners == nullptr || !owners->is_array()) return false;
  for (const auto& owner : *owners) {
    const json* controller = find_member(owner, "controller");
    const json* api_version = find_member(owner, "apiVersion");
    if (controller == nullptr || !controller->is_boolean() || !controller->get<bool>()) continue;
    if (api_version == nullptr || !api_version->is_string() ||
        api_version->get_ref<const std::string&>().rfind("batch/", 0) != 0) {
      continue;
    }
    if (string_equals(find_member(owner, "kind"), "Job") && string_equals(find_member(owner, "name"), job)) return true;
  }
  return false;
}

}  // namespace

scope_decision classify(const admission::admission_request& request, const uninstall_job& job) {
  if (request.operation != "CREATE") return {false, "operation " + request.operation + " is not guarded"};
  const bool is_pod = request.resource == "pods" || (request.resource.empty() && request.kind == "Pod");
  if (!is_pod || !request.kind_group.empty() || !request.sub_resource.empty()) {
    return {false, "not a pod"};
  }
  if (request.namespace_name != job.namespace_name) return {false, "namespace " + request.namespace_name + " is not guarded"};
  const json* metadata = find_member(request.object, "metadata");
  if (metadata == nullptr) return {false, "pod has no metadata"};
  if (label_names_job(*metadata, job.job_name)) return {true, "pod of Job " + job.job_name + " (label)"};
  if (owner_is_job(*metadata, job.job_name)) return {true, "pod of Job " + job.job_name + " (ownerReference)"};
  return {false, "not a pod of Job " + job.job_name};
}

}  // namespace lug::guard
