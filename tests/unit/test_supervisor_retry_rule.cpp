#include <doctest/doctest.h>

#include <string>

#include "supervisor/retry_rule.hpp"

using namespace std::chrono_literals;
using lug::supervisor::attempt_result;
using lug::supervisor::decide_retry;
using lug::supervisor::delay_before_retry;
using lug::supervisor::exit_status;
using lug::supervisor::verdict;

namespace {

// An attempt that lost the race: exit 1 after the refusal, before "Uninstalling...".
attempt_result refused() { return {.killed = false, .code = 1, .printed_flag_refusal = true}; }

// The pauses of a run whose `attempts` attempts are all refused, added up.
std::chrono::milliseconds total_pause(std::chrono::milliseconds first_delay, int attempts) {
  auto total = 0ms;
  for (int retry = 1; retry < attempts; ++retry) total += delay_before_retry(first_delay, retry);
  return total;
}

}  // namespace

TEST_SUITE("the supervisor retries only longhorn-manager's premature refusal") {
  TEST_CASE("an attempt that exited 1 having printed only the refusal is retried while attempts are left") {
    CHECK(decide_retry(refused(), 1, 5, false) == verdict::retry);
    CHECK(decide_retry(refused(), 4, 5, false) == verdict::retry);
  }
  TEST_CASE("the last attempt's refusal is passed through") {
    CHECK(decide_retry(refused(), 5, 5, false) == verdict::attempts_exhausted);
    CHECK(decide_retry(refused(), 1, 1, false) == verdict::attempts_exhausted);
  }
  TEST_CASE("an attempt that printed Uninstalling... is never retried, whatever else it printed") {
    attempt_result started = refused();
    started.printed_uninstall_started = true;
    CHECK(decide_retry(started, 1, 5, false) == verdict::uninstall_started);
  }
  TEST_CASE("exit 1 without the refusal is another failure, passed through") {
    CHECK(decide_retry({.code = 1}, 1, 5, false) == verdict::other_failure);
  }
  TEST_CASE("any exit status but 1 is passed through, even after the refusal") {
    for (const int code : {0, 2, 3, 126, 127, 137, 255}) {
      attempt_result result = refused();
      result.code = code;
      CHECK(decide_retry(result, 1, 5, false) == verdict::other_exit);
    }
  }
  TEST_CASE("an attempt killed by a signal is passed through, even by signal 1") {
    attempt_result killed = refused();
    killed.killed = true;
    killed.code = 1;  // SIGHUP: the same number as the refusal's exit code
    CHECK(decide_retry(killed, 1, 5, false) == verdict::killed);
  }
  TEST_CASE("once told to stop, nothing is retried") {
    CHECK(decide_retry(refused(), 1, 5, true) == verdict::stopping);
  }
}

TEST_SUITE("the supervisor's exit status") {
  TEST_CASE("is the command's exit code when it exited") {
    CHECK(exit_status({.code = 0}) == 0);
    CHECK(exit_status({.code = 2}) == 2);
    CHECK(exit_status({.code = 137}) == 137);
  }
  TEST_CASE("is 128 + signal when a signal killed the command") {
    CHECK(exit_status({.killed = true, .code = 9}) == 137);
    CHECK(exit_status({.killed = true, .code = 15}) == 143);
  }
}

TEST_SUITE("the pause between attempts") {
  TEST_CASE("starts at the first delay and doubles") {
    CHECK(delay_before_retry(1000ms, 1) == 1000ms);
    CHECK(delay_before_retry(1000ms, 2) == 2000ms);
    CHECK(delay_before_retry(1000ms, 3) == 4000ms);
    CHECK(delay_before_retry(1000ms, 4) == 8000ms);
  }
  TEST_CASE("never grows beyond max_retry_delay") {
    CHECK(delay_before_retry(1000ms, 5) == lug::supervisor::max_retry_delay);
    CHECK(delay_before_retry(1000ms, 19) == lug::supervisor::max_retry_delay);
    CHECK(delay_before_retry(3000ms, 3) == lug::supervisor::max_retry_delay);
  }
  TEST_CASE("a first delay above the cap is kept, never doubled") {
    CHECK(delay_before_retry(30000ms, 1) == 30000ms);
    CHECK(delay_before_retry(30000ms, 4) == 30000ms);
  }
  TEST_CASE("zero stays zero") { CHECK(delay_before_retry(0ms, 6) == 0ms); }
  TEST_CASE("the longest pauses the flags allow stay inside the uninstall Job's 900 s deadline") {
    CHECK(total_pause(lug::supervisor::max_first_delay, lug::supervisor::max_attempts) <= 600000ms);
  }
  TEST_CASE("the defaults pause 15 s in all when every attempt is refused") {
    CHECK(total_pause(lug::supervisor::default_first_delay, lug::supervisor::default_attempts) == 15000ms);
  }
}

TEST_SUITE("the retry line") {
  TEST_CASE("says why, names longhorn/longhorn#10483, the next attempt and the pause") {
    const auto line = lug::supervisor::retry_announcement(2, 5, 1500ms);
    CHECK(line.find("longhorn/longhorn#10483") != std::string::npos);
    CHECK(line.find("deleting-confirmation-flag") != std::string::npos);
    CHECK(line.find("attempt 2 of 5") != std::string::npos);
    CHECK(line.find("1500ms") != std::string::npos);
    CHECK(line.find('\n') == std::string::npos);
  }
  TEST_CASE("delays are written as --delay reads them") {
    CHECK(lug::supervisor::format_delay(0ms) == "0s");
    CHECK(lug::supervisor::format_delay(2000ms) == "2s");
    CHECK(lug::supervisor::format_delay(250ms) == "250ms");
    CHECK(lug::supervisor::format_delay(1500ms) == "1500ms");
  }
}
