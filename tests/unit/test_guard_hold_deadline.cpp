// When a hold must be answered (guard/hold_policy.hpp): the API server's ?timeout less the
// answer margin (a quarter of the timeout, at most 1 s), or --max-hold when that is sooner;
// 10 s assumed when ?timeout is missing or not positive. The rows with a 4 s and a 2 s
// timeout are the deadlines tests/integration/test_guard_holds.sh waits out over TLS.
#include <doctest/doctest.h>

#include <chrono>
#include <optional>

#include "guard/hold_policy.hpp"

namespace {

using namespace std::chrono_literals;
using std::chrono::nanoseconds;

const auto received = std::chrono::steady_clock::time_point{} + 1h;

nanoseconds hold_for(std::optional<nanoseconds> api_timeout, nanoseconds max_hold = 25s) {
  return lug::guard::hold_deadline(received, api_timeout, max_hold) - received;
}

}  // namespace

TEST_SUITE("hold deadline") {
  TEST_CASE("should keep back a quarter of the API server's timeout, at most 1 s") {
    struct row {
      nanoseconds api_timeout;
      nanoseconds hold;
    };
    for (const auto& [api_timeout, hold] : {
             row{30s, 25s},  // the API server's largest timeoutSeconds: --max-hold (25 s) comes first
             row{26s, 25s},
             row{10s, 9s},
             row{4s, 3s},  // the margin reaches 1 s at 4 s
             row{3s, 2250ms},
             row{2s, 1500ms},
             row{1s, 750ms},
         }) {
      CAPTURE(api_timeout.count());
      CHECK(hold_for(api_timeout) == hold);
    }
  }

  TEST_CASE("should end a hold at --max-hold when that comes before the API server's timeout") {
    CHECK(hold_for(10s, 2s) == 2s);
    CHECK(hold_for(2s, 2s) == 1500ms);  // here the timeout's margin comes first
    CHECK(hold_for(10s, 9s) == 9s);
    CHECK(hold_for(10s, 0s) == 0s);  // --max-hold 0: answered at once
  }

  TEST_CASE("should assume the webhook's default 10 s when ?timeout is missing or not positive") {
    CHECK(hold_for(std::nullopt) == 9s);
    CHECK(hold_for(0s) == 9s);
    CHECK(hold_for(-5s) == 9s);
    CHECK(hold_for(std::nullopt, 2s) == 2s);
  }

  TEST_CASE("should keep a quarter back from timeouts too small to be real, rounding the margin down") {
    CHECK(hold_for(100ms) == 75ms);
    CHECK(hold_for(4ns) == 3ns);
    CHECK(hold_for(3ns) == 3ns);  // a quarter of 3 ns is 0 ns
    CHECK(hold_for(1ns) == 1ns);
  }

  TEST_CASE("should cap huge timeouts at --max-hold without overflowing") {
    CHECK(hold_for(24h) == 25s);
    CHECK(hold_for(nanoseconds::max()) == 25s);
    CHECK(hold_for(nanoseconds::max(), 24h) == 24h);
  }

  TEST_CASE("should count from when the request was received") {
    const auto later = received + 5s;
    CHECK(lug::guard::hold_deadline(later, 4s, 25s) == later + 3s);
  }
}
