#include "admission/review_observer.hpp"

namespace lug::admission {
namespace {

class ignoring_observer final : public review_observer {
 public:
  void reviewed(review_outcome, std::chrono::nanoseconds) override {}
};

}  // namespace

std::string_view to_string(review_outcome outcome) {
  switch (outcome) {
    case review_outcome::allowed: return "allowed";
    case review_outcome::patched: return "patched";
    case review_outcome::denied: return "denied";
    case review_outcome::errored: return "errored";
    case review_outcome::rejected: return "rejected";
    case review_outcome::abandoned: return "abandoned";
  }
  return "unknown";
}

review_outcome outcome_of(const admission_response& decision) {
  if (decision.abandoned) return review_outcome::abandoned;
  if (decision.allowed) return decision.patch ? review_outcome::patched : review_outcome::allowed;
  // errored() is the only constructor that denies with 500.
  if (decision.status && decision.status->code == 500) return review_outcome::errored;
  return review_outcome::denied;
}

review_observer& ignore_reviews() {
  static ignoring_observer observer;
  return observer;
}

}  // namespace lug::admission
