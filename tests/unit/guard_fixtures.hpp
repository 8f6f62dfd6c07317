// Admission requests for guard tests, built in code so each test states what differs.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "admission/review.hpp"

namespace lug::test {

// A pod as the Job controller creates it for Job `job` in `ns`, after the
// ServiceAccount admission plugin added the projected token volume.
inline nlohmann::json job_pod(const std::string& ns = "longhorn-system", const std::string& job = "longhorn-uninstall") {
  return nlohmann::json::parse(R"({
    "kind":"Pod","apiVersion":"v1",
    "metadata":{"generateName":")" + job + R"(-","namespace":")" + ns + R"(",
      "labels":{"job-name":")" + job + R"(","batch.kubernetes.io/job-name":")" + job + R"(","controller-uid":"c1"},
      "ownerReferences":[{"apiVersion":"batch/v1","kind":"Job","name":")" + job + R"(","uid":"c1","controller":true}]},
    "spec":{
      "volumes":[{"name":"kube-api-access-abcde","projected":{"sources":[{"serviceAccountToken":{"path":"token"}}]}}],
      "containers":[{"name":"longhorn-uninstall","image":"longhornio/longhorn-manager:v1.7.2",
        "command":["longhorn-manager","uninstall","--force"],
        "volumeMounts":[{"name":"kube-api-access-abcde","readOnly":true,"mountPath":"/var/run/secrets/kubernetes.io/serviceaccount"}]}],
      "serviceAccountName":"longhorn-service-account","restartPolicy":"Never"}})");
}

inline admission::admission_request pod_create(nlohmann::json pod, const std::string& ns = "longhorn-system") {
  admission::admission_request r;
  r.review_api_version = "admission.k8s.io/v1";
  r.uid = "uid-test";
  r.operation = "CREATE";
  r.kind_version = "v1";
  r.kind = "Pod";
  r.resource = "pods";
  r.namespace_name = ns;
  r.object = std::move(pod);
  return r;
}

}  // namespace lug::test
