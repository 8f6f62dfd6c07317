// Decoding an AdmissionReview request (admission.k8s.io/v1, and v1beta1 which has the
// same shape).
//
// The envelope must be right: a JSON object of kind AdmissionReview with a known
// apiVersion and a non-empty string request.uid; anything else is a decode_error the
// HTTP layer answers with 400, because without a uid there is nothing to answer to.
// Inner fields are read tolerantly: a field of the wrong type reads as absent, so a
// strange object still gets a decision instead of an exception. Nesting deeper than
// max_json_depth is refused before parsing.
#pragma once

#include <string>
#include <string_view>
#include <variant>

#include <nlohmann/json.hpp>

namespace lug::admission {

// Pods nest about a dozen levels (spec.containers[].securityContext.capabilities.add[]),
// and their managedFields mirror that shape a few levels deeper. 128 is ten times what a
// real review needs, and bounds the work any hostile input can cause.
inline constexpr int max_json_depth = 128;

inline constexpr std::string_view review_v1 = "admission.k8s.io/v1";
inline constexpr std::string_view review_v1beta1 = "admission.k8s.io/v1beta1";

struct admission_request {
  std::string review_api_version;  // answered in kind
  std::string uid;
  std::string operation;  // CREATE, UPDATE, DELETE, CONNECT
  std::string kind_group, kind_version, kind;
  std::string resource;  // e.g. "pods"
  std::string sub_resource;
  std::string namespace_name;
  std::string name;           // often empty for a CREATE
  std::string generate_name;  // object.metadata.generateName, when present
  bool dry_run = false;
  nlohmann::json object;  // the object as sent; null when absent

  // "name" or, for objects named by the server, "generateName*" (for logs and messages).
  std::string display_name() const;
};

struct decode_error {
  std::string message;  // says what was wrong and what a valid request looks like
};

std::variant<admission_request, decode_error> decode_review(std::string_view body);

// Deepest nesting of arrays/objects in a JSON text, stopping early past `limit`.
// Strings are skipped correctly, so brackets inside them do not count.
int json_depth(std::string_view text, int limit);

}  // namespace lug::admission
