// Admission requests for guard tests, built in code so each test states what differs.
#pragma once

#include <stdexcept>
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

// Decodes `request` (the inside of an AdmissionReview) the way the webhook does: the review
// text through decode_review, then the object's DOM through decode_object.
inline admission::admission_request decoded(const nlohmann::json& request) {
  const nlohmann::json review = {
      {"apiVersion", "admission.k8s.io/v1"}, {"kind", "AdmissionReview"}, {"request", request}};
  const std::string body = review.dump();
  auto decoded_review = admission::decode_review(body);
  if (!decoded_review) throw std::runtime_error("test review does not decode: " + decoded_review.error().message);
  auto& out = *decoded_review;
  if (const auto filled = admission::decode_object(body, out); !filled) {
    throw std::runtime_error("test review object does not decode: " + filled.error().message);
  }
  return std::move(out);
}

inline admission::admission_request pod_create(const nlohmann::json& pod, const std::string& ns = "longhorn-system") {
  return decoded({{"uid", "uid-test"},
                  {"operation", "CREATE"},
                  {"kind", {{"group", ""}, {"version", "v1"}, {"kind", "Pod"}}},
                  {"resource", {{"group", ""}, {"version", "v1"}, {"resource", "pods"}}},
                  {"namespace", ns},
                  {"object", pod}});
}

}  // namespace lug::test
