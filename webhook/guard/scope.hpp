// Which admission requests the guard acts on: the CREATE of a pod that belongs to the
// Longhorn uninstall Job, in the Longhorn namespace. A pod belongs to the Job when its
// `job-name` or `batch.kubernetes.io/job-name` label, or its controller ownerReference
// to a batch Job, names the Job (the Job controller sets all three; any one suffices so
// that a pod created by something that sets only one is still caught).
// Everything else is out of scope and must be allowed without any API call.
#pragma once

#include <string>

#include "admission/review.hpp"

namespace lug::guard {

struct uninstall_job {
  std::string namespace_name = "longhorn-system";
  std::string job_name = "longhorn-uninstall";
};

struct scope_decision {
  bool in_scope = false;
  std::string why;  // for the log line: what matched, or why it is out of scope
};

scope_decision classify(const admission::admission_request& request, const uninstall_job& job);

}  // namespace lug::guard
