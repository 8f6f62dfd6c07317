#include "guard/hold_observer.hpp"

namespace lug::guard {
namespace {

class ignoring_observer final : public hold_observer {
 public:
  void hold_started() override {}
  void hold_ended(hold_outcome) override {}
};

}  // namespace

std::string_view to_string(hold_outcome outcome) {
  switch (outcome) {
    case hold_outcome::flag_true: return "flag_true";
    case hold_outcome::flag_not_true: return "flag_not_true";
    case hold_outcome::read_failed: return "read_failed";
    case hold_outcome::read_failed_allowed: return "read_failed_allowed";
    case hold_outcome::too_many_held: return "too_many_held";
    case hold_outcome::shutting_down: return "shutting_down";
    case hold_outcome::abandoned: return "abandoned";
  }
  return "unknown";
}

hold_observer& ignore_holds() {
  static ignoring_observer observer;
  return observer;
}

}  // namespace lug::guard
