// The init container's wait (guard/confirmation_wait): it confirms only when one round's
// fresh read and the cached read after it both say true, retries failed reads, gives up at
// its timeout and stops at once when cancelled. Reads are scripted; intervals are
// milliseconds, so each case takes a few.
#include <doctest/doctest.h>

#include <deque>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include "guard/confirmation_wait.hpp"

namespace net = boost::asio;
using namespace std::chrono_literals;
using lug::guard::read_mode;
using lug::guard::read_outcome;
using lug::guard::setting_read;
using lug::guard::wait_result;

namespace {

setting_read answer(read_mode mode, std::string value) {
  setting_read r;
  r.mode = mode;
  r.outcome = read_outcome::ok;
  r.value = std::move(value);
  r.started = r.finished = std::chrono::steady_clock::now();
  return r;
}

setting_read failure(read_mode mode, read_outcome outcome) {
  setting_read r;
  r.mode = mode;
  r.outcome = outcome;
  r.started = r.finished = std::chrono::steady_clock::now();
  return r;
}

// Answers the scripted reads in order, checking each is of the mode the script expects;
// once the script is used up, every read says `then`.
struct script {
  explicit script(std::deque<setting_read> scripted = {}) : reads(std::move(scripted)) {}

  std::deque<setting_read> reads;
  std::string then = "false";
  std::vector<read_mode> asked;
  int out_of_order = 0;

  lug::guard::read_function function() {
    return [this](read_mode mode, std::chrono::steady_clock::time_point) -> net::awaitable<setting_read> {
      asked.push_back(mode);
      if (reads.empty()) co_return answer(mode, then);
      auto next = reads.front();
      reads.pop_front();
      if (next.mode != mode) ++out_of_order;
      co_return next;
    };
  }
};

constexpr lug::guard::wait_options quick{1ms, 0ms, 0ms};

std::optional<wait_result> run(script& reads, lug::guard::wait_options options = quick,
                               std::chrono::milliseconds limit = 2s) {
  net::io_context io;
  std::optional<wait_result> result;
  net::co_spawn(io, lug::guard::wait_for_confirmation(reads.function(), options),
                [&](std::exception_ptr error, wait_result r) {
                  if (error) std::rethrow_exception(error);
                  result = r;
                });
  io.run_for(limit);
  return result;
}

}  // namespace

TEST_CASE("the wait confirms once a round's fresh and cached reads both say true") {
  script reads{{answer(read_mode::fresh, "false"), answer(read_mode::fresh, "true"), answer(read_mode::cached, "true")}};
  CHECK(run(reads) == wait_result::confirmed);
  CHECK(reads.asked == std::vector{read_mode::fresh, read_mode::fresh, read_mode::cached});
  CHECK(reads.out_of_order == 0);
}

TEST_CASE("the wait reads cached only after a fresh read says true") {
  script reads{{answer(read_mode::fresh, "false"), answer(read_mode::fresh, "no"), answer(read_mode::fresh, "")}};
  reads.then = "false";
  CHECK(run(reads, {1ms, 0ms, 40ms}) == wait_result::timed_out);
  for (auto mode : reads.asked) CHECK(mode == read_mode::fresh);
  CHECK(reads.asked.size() >= 3);
}

TEST_CASE("a cached read that lags keeps the wait going, and the next round reads fresh again") {
  script reads{{answer(read_mode::fresh, "true"), answer(read_mode::cached, "false"), answer(read_mode::fresh, "true"),
                answer(read_mode::cached, "True")}};
  CHECK(run(reads) == wait_result::confirmed);
  CHECK(reads.asked == std::vector{read_mode::fresh, read_mode::cached, read_mode::fresh, read_mode::cached});
  CHECK(reads.out_of_order == 0);
}

TEST_CASE("a fresh true followed by a fresh false is not confirmed: both must hold in one round") {
  script reads{{answer(read_mode::fresh, "true"), answer(read_mode::cached, "false"), answer(read_mode::fresh, "false"),
                answer(read_mode::fresh, "true"), answer(read_mode::cached, "true")}};
  CHECK(run(reads) == wait_result::confirmed);
  CHECK(reads.asked.size() == 5);
}

TEST_CASE("failed reads are retried, never taken for true") {
  script reads{{failure(read_mode::fresh, read_outcome::forbidden), failure(read_mode::fresh, read_outcome::timeout),
                failure(read_mode::fresh, read_outcome::setting_missing), answer(read_mode::fresh, "1"),
                failure(read_mode::cached, read_outcome::unreachable), answer(read_mode::fresh, "t"),
                answer(read_mode::cached, "TRUE")}};
  CHECK(run(reads) == wait_result::confirmed);
  CHECK(reads.asked.size() == 7);
  CHECK(reads.out_of_order == 0);
}

TEST_CASE("the wait gives up at its timeout when the flag never reads true") {
  script reads;
  const auto started = std::chrono::steady_clock::now();
  CHECK(run(reads, {5ms, 0ms, 50ms}) == wait_result::timed_out);
  CHECK(std::chrono::steady_clock::now() - started >= 50ms);
}

TEST_CASE("with no timeout the wait goes on") {
  script reads;
  CHECK_FALSE(run(reads, {5ms, 0ms, 0ms}, 100ms).has_value());
  CHECK(reads.asked.size() >= 3);
}

TEST_CASE("a cancelled read stops the wait") {
  script reads{{answer(read_mode::fresh, "false"), failure(read_mode::fresh, read_outcome::cancelled)}};
  CHECK(run(reads) == wait_result::stopped);
  CHECK(reads.asked.size() == 2);
}

TEST_CASE("cancelling the coroutine stops a sleeping wait at once") {
  script reads;
  net::io_context io;
  net::cancellation_signal stop;
  std::optional<wait_result> result;
  net::co_spawn(io, lug::guard::wait_for_confirmation(reads.function(), {10s, 0ms, 0ms}),
                net::bind_cancellation_slot(stop.slot(), [&](std::exception_ptr, wait_result r) { result = r; }));
  net::post(io, [&] { stop.emit(net::cancellation_type::terminal); });
  const auto started = std::chrono::steady_clock::now();
  io.run_for(5s);
  CHECK(result == wait_result::stopped);
  CHECK(std::chrono::steady_clock::now() - started < 5s);
}

TEST_CASE("after confirming, the wait sleeps the settle time") {
  script reads{{answer(read_mode::fresh, "true"), answer(read_mode::cached, "true")}};
  const auto started = std::chrono::steady_clock::now();
  CHECK(run(reads, {1ms, 60ms, 0ms}) == wait_result::confirmed);
  CHECK(std::chrono::steady_clock::now() - started >= 60ms);
}

TEST_CASE("a read cut off by the wait's own timeout ends the wait as timed out") {
  // With a timeout under wait_read_timeout every read is given the wait's deadline, so a
  // read that times out means the deadline has come.
  script reads{{answer(read_mode::fresh, "false"), failure(read_mode::fresh, read_outcome::timeout)}};
  CHECK(run(reads, {1ms, 0ms, 5s}) == wait_result::timed_out);
  CHECK(reads.asked.size() == 2);
}

TEST_CASE("a read that times out on its own bound, before the wait's deadline, is retried") {
  script reads{{failure(read_mode::fresh, read_outcome::timeout), answer(read_mode::fresh, "true"),
                answer(read_mode::cached, "true")}};
  CHECK(run(reads) == wait_result::confirmed);
  CHECK(reads.asked.size() == 3);
}
