// Admission decisions and their encoding as an AdmissionReview response.
//
// The constructors are the only way policy code builds a decision: allowed, denied
// (a code >= 400, a Kubernetes reason word and a message the user will read in
// `kubectl describe job` events), errored (the webhook could not decide), patched, and
// abandoned (the client left before a decision; never sent).
// encode_review echoes the request's apiVersion and uid, as the API server requires.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "admission/json_patch.hpp"

namespace lug::admission {

struct admission_status {
  int code = 0;
  std::string reason;   // the metav1.StatusReason word for `code` (lug::status_reason), e.g. "Forbidden"
  std::string message;  // shown to the user by kubectl and in events
};

// What an answer is, as the metrics count it. Set by the constructors below, never
// inferred from the status code.
enum class review_outcome {
  allowed,    // allowed, unchanged
  patched,    // allowed with a JSON patch
  denied,     // denied by the policy
  errored,    // the webhook failed to decide (denied with 500)
  rejected,   // not answered with a decision: the request was not a JSON AdmissionReview (400, 415)
  abandoned,  // not answered: the client went away before the decision
};

std::string_view to_string(review_outcome outcome);

struct admission_response {
  review_outcome outcome = review_outcome::allowed;
  std::optional<admission_status> status;  // set on denials
  std::optional<std::string> patch;        // JSON text of a non-empty RFC 6902 array
  std::vector<std::string> warnings;
  std::string log_reason;  // why, in a few words, for our log line; never sent

  bool allowed() const { return outcome == review_outcome::allowed || outcome == review_outcome::patched; }
  // The client went away first: nothing is sent.
  bool abandoned() const { return outcome == review_outcome::abandoned; }
};

admission_response allowed(std::string log_reason);
// Denied with `code` (>= 400) and its Kubernetes reason word.
admission_response denied(int code, std::string message, std::string log_reason);
// The webhook could not reach a decision (e.g. an internal error): deny with 500.
admission_response errored(std::string message);
// An empty patch yields a plain allowed response (no patchType, no patch).
admission_response patched(const json_patch& patch, std::string log_reason);
admission_response with_warning(admission_response response, std::string warning);
// No decision: the client went away before one was reached, and nobody would read it.
admission_response abandoned(std::string log_reason);

std::string encode_review(std::string_view api_version, std::string_view uid, const admission_response& response);

}  // namespace lug::admission
