// Who wants to know about every admission answer (metrics), without the pipeline knowing
// who that is. Each endpoint has its own observer; admission/http_endpoint calls
// reviewed() once per request it answers, including the ones refused before a decision
// (not JSON, not an AdmissionReview).
#pragma once

#include <chrono>
#include <string_view>

#include "admission/response.hpp"

namespace lug::admission {

enum class review_outcome {
  allowed,   // allowed, unchanged
  patched,   // allowed with a JSON patch
  denied,    // denied by the policy
  errored,   // the webhook failed to decide (denied with 500)
  rejected,   // not answered with a decision: the request was not a JSON AdmissionReview (400, 415)
  abandoned,  // not answered: the client went away before the decision
};

std::string_view to_string(review_outcome outcome);

// The outcome a decision counts as.
review_outcome outcome_of(const admission_response& decision);

class review_observer {
 public:
  virtual ~review_observer() = default;
  // `latency` runs from the whole request having arrived to the answer being ready.
  virtual void reviewed(review_outcome outcome, std::chrono::nanoseconds latency) = 0;
};

// An observer that ignores everything, for callers that do not measure.
review_observer& ignore_reviews();

}  // namespace lug::admission
