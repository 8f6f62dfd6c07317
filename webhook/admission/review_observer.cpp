#include "admission/review_observer.hpp"

namespace lug::admission {
namespace {

class ignoring_observer final : public review_observer {
 public:
  void reviewed(review_outcome, std::chrono::nanoseconds) override {}
};

}  // namespace

review_observer& ignore_reviews() {
  static ignoring_observer observer;
  return observer;
}

}  // namespace lug::admission
