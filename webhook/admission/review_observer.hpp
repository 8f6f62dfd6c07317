// Who wants to know about every admission answer (metrics), without the pipeline knowing
// who that is. Each endpoint has its own observer; admission/http_endpoint calls
// reviewed() once per request it answers, including the ones refused before a decision
// (not JSON, not an AdmissionReview).
#pragma once

#include <chrono>
#include <string_view>

#include "admission/response.hpp"

namespace lug::admission {

class review_observer {
 public:
  virtual ~review_observer() = default;
  // `latency` runs from the whole request having arrived to the answer being ready.
  virtual void reviewed(review_outcome outcome, std::chrono::nanoseconds latency) = 0;
};

// An observer that ignores everything, for callers that do not measure.
review_observer& ignore_reviews();

}  // namespace lug::admission
