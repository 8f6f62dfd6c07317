// Decoding an AdmissionReview request (admission.k8s.io/v1, and v1beta1 which has the
// same shape).
//
// The envelope must be right: a JSON object of kind AdmissionReview with a known
// apiVersion and a non-empty string request.uid; anything else is a decode_error the
// HTTP layer answers with 400, because without a uid there is nothing to answer to.
// Inner fields are read tolerantly: a field of the wrong type reads as absent, so a
// strange object still gets a decision instead of an exception.
//
// Decoding is two-step because most reviews are decided by a few fields. decode_review
// validates the whole body (syntax, UTF-8, nesting) with simdjson and copies out only the
// envelope and the object's metadata (object_metadata); decode_object builds the full
// nlohmann DOM of request.object for the policies that edit it (the mutator, in scope).
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "admission/object_metadata.hpp"
#include "support/result.hpp"

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
  std::string name;  // request.name, else object.metadata.name; often empty for a CREATE
  bool dry_run = false;
  object_metadata metadata;  // of request.object
  // The object as sent: null until decode_object fills it.
  nlohmann::json object;

  // "name" or, for objects named by the server, "generateName*" (for logs and messages).
  std::string display_name() const;
};

struct decode_error {
  std::string message;  // says what was wrong and what a valid request looks like
};

result<admission_request, decode_error> decode_review(std::string_view body);

// Fills request.object from the same body decode_review accepted. Fails only if the two
// parsers disagree on a corner of JSON (simdjson refuses integers beyond 64 bits that
// nlohmann would accept, nlohmann may refuse a number simdjson took), which the API
// server never sends.
result<void, decode_error> decode_object(std::string_view body, admission_request& request);

}  // namespace lug::admission
