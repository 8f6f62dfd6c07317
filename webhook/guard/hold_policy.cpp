#include "guard/hold_policy.hpp"

#include <algorithm>

namespace lug::guard {

std::string_view to_string(on_read_error choice) { return choice == on_read_error::allow ? "allow" : "deny"; }

std::chrono::steady_clock::time_point hold_deadline(std::chrono::steady_clock::time_point received,
                                                    std::optional<std::chrono::nanoseconds> api_timeout,
                                                    std::chrono::nanoseconds max_hold) {
  const bool given = api_timeout && *api_timeout > std::chrono::nanoseconds::zero();
  const auto timeout = given ? *api_timeout : default_api_timeout;
  const auto margin = std::min(max_answer_margin, timeout / 4);
  const auto hold = std::min(timeout - margin, max_hold);
  return received + std::chrono::duration_cast<std::chrono::steady_clock::duration>(hold);
}

}  // namespace lug::guard
