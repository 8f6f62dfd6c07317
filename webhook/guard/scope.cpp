#include "guard/scope.hpp"

namespace lug::guard {
namespace {

bool label_names_job(const admission::object_metadata& metadata, const std::string& job) {
  for (const char* key : {"job-name", "batch.kubernetes.io/job-name"}) {
    const std::string* value = metadata.label(key);
    if (value != nullptr && *value == job) return true;
  }
  return false;
}

bool owner_is_job(const admission::object_metadata& metadata, const std::string& job) {
  for (const auto& owner : metadata.owner_references) {
    if (owner.controller && owner.api_version.starts_with("batch/") && owner.kind == "Job" && owner.name == job) {
      return true;
    }
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
  const auto& metadata = request.metadata;
  if (!metadata.present) return {false, "pod has no metadata"};
  if (label_names_job(metadata, job.job_name)) return {true, "pod of Job " + job.job_name + " (label)"};
  if (owner_is_job(metadata, job.job_name)) return {true, "pod of Job " + job.job_name + " (ownerReference)"};
  return {false, "not a pod of Job " + job.job_name};
}

}  // namespace lug::guard
