// Who wants to know when the validating policy holds a pod and how each hold ends
// (metrics), without the policy knowing who that is. A hold starts when an in-scope
// request enters the validator and ends exactly once, with one outcome.
#pragma once

#include <string_view>

namespace lug::guard {

enum class hold_outcome {
  flag_true,            // allowed: a fresh read said true
  flag_not_true,        // denied: the reads answered, and not true
  read_failed,          // denied: no read answered
  read_failed_allowed,  // allowed: no read answered, and --on-read-error=allow
  too_many_held,        // denied at once: --max-held holds were already running
  shutting_down,        // denied: the server is draining
  abandoned,            // ended without an answer: the client went away, an exception, or the server stopped mid-hold
};

std::string_view to_string(hold_outcome outcome);

class hold_observer {
 public:
  virtual ~hold_observer() = default;
  virtual void hold_started() = 0;
  virtual void hold_ended(hold_outcome outcome) = 0;
};

// An observer that ignores everything, for callers that do not measure.
hold_observer& ignore_holds();

}  // namespace lug::guard
