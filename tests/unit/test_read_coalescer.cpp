#include <doctest/doctest.h>

#include <atomic>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "guard/read_coalescer.hpp"

namespace net = boost::asio;
using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

namespace {

// What the fake API returns: the read's own start time, so tests can check freshness.
struct fake_read {
  clock_type::time_point started;
  int number = 0;
};

struct fake_api {
  net::io_context& io;
  clock_type::duration latency = 5ms;
  bool honours_deadline = true;  // false: an API that hangs past the deadline it was given
  std::atomic<int> reads{0};
  std::atomic<int> in_flight{0};
  std::atomic<int> most_in_flight{0};

  net::awaitable<fake_read> read(clock_type::time_point deadline) {
    fake_read r{clock_type::now(), ++reads};
    const int now_in_flight = ++in_flight;
    most_in_flight = std::max(most_in_flight.load(), now_in_flight);
    net::steady_timer t(io);
    t.expires_at(honours_deadline ? std::min(clock_type::now() + latency, deadline) : clock_type::now() + latency);
    co_await t.async_wait(net::use_awaitable);
    --in_flight;
    co_return r;
  }
};

using coalescer = lug::guard::read_coalescer<fake_read>;

coalescer make(net::io_context& io, fake_api& api, clock_type::duration max_read = 1s) {
  return coalescer(io.get_executor(), [&api](clock_type::time_point d) { return api.read(d); }, max_read);
}

// Runs one waiter asking `reads` for `wanted` until `io` has nothing left to do; what it got.
coalescer::outcome lone_waiter(net::io_context& io, coalescer& reads, coalescer::request wanted) {
  coalescer::outcome got;
  net::co_spawn(io, [&]() -> net::awaitable<void> { got = co_await reads.next_read(wanted); }, net::detached);
  io.run();
  return got;
}

}  // namespace

TEST_SUITE("coalescing fresh reads") {
  TEST_CASE("a waiter gets a read that started after it arrived") {
    net::io_context io;
    fake_api api{io};
    auto reads = make(io, api);
    const auto arrived = clock_type::now();
    const auto got = lone_waiter(io, reads, {arrived, arrived, arrived + 1s});
    REQUIRE(got.what == coalescer::outcome::kind::read);
    CHECK(got.read->value().started > arrived);
    CHECK(got.read_started > arrived);
    CHECK(api.reads == 1);
  }

  TEST_CASE("a waiter that arrives while a read is in flight waits for the next read") {
    net::io_context io;
    fake_api api{io, 30ms};
    auto reads = make(io, api);
    coalescer::outcome first, second;
    clock_type::time_point second_arrived;
    net::co_spawn(io, [&]() -> net::awaitable<void> {
      const auto t = clock_type::now();
      first = co_await reads.next_read({t, t, t + 2s});
    }, net::detached);
    net::co_spawn(io, [&]() -> net::awaitable<void> {
      net::steady_timer wait(io, 10ms);  // arrive in the middle of the first read
      co_await wait.async_wait(net::use_awaitable);
      second_arrived = clock_type::now();
      second = co_await reads.next_read({second_arrived, second_arrived, second_arrived + 2s});
    }, net::detached);
    io.run();
    REQUIRE(first.what == coalescer::outcome::kind::read);
    REQUIRE(second.what == coalescer::outcome::kind::read);
    CHECK(first.read->value().number == 1);
    CHECK(second.read->value().number == 2);
    CHECK(second.read->value().started > second_arrived);
    CHECK(api.most_in_flight == 1);
  }

  TEST_CASE("hundreds of simultaneous waiters share at most two reads") {
    net::io_context io;
    fake_api api{io, 20ms};
    auto reads = make(io, api);
    std::atomic<int> answered{0};
    std::atomic<int> stale{0};
    for (int i = 0; i < 300; ++i) {
      net::co_spawn(io, [&]() -> net::awaitable<void> {
        const auto t = clock_type::now();
        auto o = co_await reads.next_read({t, t, t + 2s});
        if (o.what == coalescer::outcome::kind::read) ++answered;
        if (!o.read || !o.read->has_value() || !((*o.read)->started > t)) ++stale;
      }, net::detached);
    }
    io.run();
    CHECK(answered == 300);
    CHECK(stale == 0);
    CHECK(api.reads <= 2);
    CHECK(api.most_in_flight == 1);
  }

  TEST_CASE("held waiters polling together cost about one read per poll interval") {
    net::io_context io;
    fake_api api{io, 2ms};
    auto reads = make(io, api);
    const auto poll = 20ms;
    const auto hold = 300ms;
    for (int i = 0; i < 200; ++i) {
      net::co_spawn(io, [&, i]() -> net::awaitable<void> {
        net::steady_timer stagger(io, std::chrono::microseconds(i * 100));  // arrivals spread over 20 ms
        co_await stagger.async_wait(net::use_awaitable);
        const auto arrived = clock_type::now();
        coalescer::request want{arrived, arrived, arrived + hold};
        for (;;) {
          auto o = co_await reads.next_read(want);
          if (o.what != coalescer::outcome::kind::read) break;
          want.started_after = o.read_started;
          want.not_before = o.read_started + poll;
        }
      }, net::detached);
    }
    io.run();
    // 320 ms of holding at one read per 20 ms is ~16 reads; 200 independent pollers would make ~3000.
    CHECK(api.reads >= 8);
    CHECK(api.reads <= 30);
  }

  TEST_CASE("a read is not started before the earliest not_before among the waiters") {
    net::io_context io;
    fake_api api{io};
    auto reads = make(io, api);
    const auto arrived = clock_type::now();
    const auto got = lone_waiter(io, reads, {arrived, arrived + 50ms, arrived + 1s});
    REQUIRE(got.what == coalescer::outcome::kind::read);
    CHECK(got.read_started >= arrived + 50ms);
  }

  TEST_CASE("a waiter whose deadline passes during a hanging read is answered at its deadline") {
    net::io_context io;
    fake_api api{io, 500ms, false};
    auto reads = make(io, api);
    const auto arrived = clock_type::now();
    coalescer::outcome got;
    clock_type::time_point answered;
    net::co_spawn(io, [&]() -> net::awaitable<void> {
      got = co_await reads.next_read({arrived, arrived, arrived + 50ms});
      answered = clock_type::now();
    }, net::detached);
    io.run();
    CHECK(got.what == coalescer::outcome::kind::deadline);
    CHECK(answered - arrived >= 50ms);
    CHECK(answered - arrived < 400ms);
  }

  TEST_CASE("a held waiter whose next poll would fall after its deadline is answered at the deadline") {
    // Regression: the timer armed for the deadline during the previous read was
    // cancelled when that read answered, and must be armed again for the same instant.
    net::io_context io;
    fake_api api{io, 1ms};
    auto reads = make(io, api);
    const auto arrived = clock_type::now();
    const auto deadline = arrived + 100ms;
    std::vector<coalescer::outcome::kind> kinds;
    clock_type::time_point finished;
    net::co_spawn(io, [&]() -> net::awaitable<void> {
      coalescer::request want{arrived, arrived, deadline};
      for (;;) {
        auto o = co_await reads.next_read(want);
        kinds.push_back(o.what);
        if (o.what != coalescer::outcome::kind::read) break;
        want.started_after = o.read_started;
        want.not_before = o.read_started + 80ms;
      }
      finished = clock_type::now();
    }, net::detached);
    net::steady_timer watchdog(io, 3s);  // keeps io.run() bounded if the waiter is lost
    watchdog.async_wait([&](auto) { io.stop(); });
    net::co_spawn(io, [&]() -> net::awaitable<void> {
      while (finished == clock_type::time_point{}) {
        net::steady_timer t(io, 5ms);
        co_await t.async_wait(net::use_awaitable);
      }
      watchdog.cancel();
    }, net::detached);
    io.run();
    REQUIRE(finished != clock_type::time_point{});
    CHECK(finished - arrived < 1s);
    REQUIRE(kinds.size() == 3);
    CHECK(kinds.back() == coalescer::outcome::kind::deadline);
  }

  TEST_CASE("a read is bounded by the latest deadline among its waiters") {
    net::io_context io;
    fake_api api{io, 10s};
    auto reads = make(io, api, 5s);
    const auto arrived = clock_type::now();
    net::co_spawn(io, [&]() -> net::awaitable<void> {
      co_await reads.next_read({arrived, arrived, arrived + 50ms});
    }, net::detached);
    io.run();  // returns once the fake read gives up at the 50 ms deadline, not after 10 s
    CHECK(clock_type::now() - arrived < 2s);
  }

  TEST_CASE("close answers every waiter at once and every later one too") {
    net::io_context io;
    fake_api api{io, 10ms};
    auto reads = make(io, api);
    std::vector<coalescer::outcome::kind> kinds;
    const auto arrived = clock_type::now();
    for (int i = 0; i < 3; ++i) {
      net::co_spawn(io, [&]() -> net::awaitable<void> {
        // Never satisfiable: wants a read after a time far in the future.
        auto o = co_await reads.next_read({arrived + 1h, arrived, arrived + 10s});
        kinds.push_back(o.what);
      }, net::detached);
    }
    net::co_spawn(io, [&]() -> net::awaitable<void> {
      net::steady_timer t(io, 30ms);
      co_await t.async_wait(net::use_awaitable);
      reads.close();
      auto late = co_await reads.next_read({clock_type::now(), clock_type::now(), clock_type::now() + 10s});
      kinds.push_back(late.what);
    }, net::detached);
    io.run();
    REQUIRE(kinds.size() == 4);
    for (auto k : kinds) CHECK(k == coalescer::outcome::kind::closed);
    CHECK(clock_type::now() - arrived < 5s);
  }

  TEST_CASE("a read function that throws gives its waiters the failure text") {
    net::io_context io;
    coalescer reads(
        io.get_executor(),
        [](clock_type::time_point) -> net::awaitable<fake_read> {
          throw std::runtime_error("api exploded");
          co_return fake_read{};
        },
        1s);
    const auto t = clock_type::now();
    const auto got = lone_waiter(io, reads, {t, t, t + 1s});
    CHECK(got.what == coalescer::outcome::kind::read);
    REQUIRE(got.read.has_value());
    REQUIRE_FALSE(got.read->has_value());
    CHECK(got.read->error() == "api exploded");
  }
}
