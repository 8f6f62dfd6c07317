// The validating policy tells its hold_observer when a hold starts and how it ends: one
// start and one end per in-scope request, none for a pod it does not guard.
#include <doctest/doctest.h>

#include <mutex>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include "admission/review_observer.hpp"
#include "guard/validator.hpp"
#include "guard_fixtures.hpp"
#include "scripted_validator.hpp"

namespace net = boost::asio;
using namespace std::chrono_literals;
using lug::guard::hold_outcome;
using lug::guard::read_outcome;

namespace {

struct recorded_holds final : lug::guard::hold_observer {
  int started = 0;
  std::vector<hold_outcome> ended;
  void hold_started() override { ++started; }
  void hold_ended(hold_outcome outcome) override { ended.push_back(outcome); }
};

// A client that goes away after `present_for` questions.
struct leaving_client final : lug::transport::client_presence {
  int present_for = 0;
  int asked = 0;
  bool gone() override { return ++asked > present_for; }
};

struct fixture {
  net::io_context io;
  lug::transport::client_presence* client = nullptr;
  // Every read answers true after 1 ms, unless a test scripts otherwise.
  lug::test::scripted_reads api{{lug::test::value_read("true")}, 1ms};
  lug::guard::setting_reads reads{io.get_executor(), api.function(), 1s};
  lug::guard::hold_policy policy{50ms, 300ms, 4, lug::guard::on_read_error::deny};
  recorded_holds holds;

  std::vector<lug::admission::admission_response> review(lug::admission::admission_request request, int copies = 1) {
    lug::guard::validator validating({}, {}, policy, reads, holds);
    std::vector<lug::admission::admission_response> answers;
    for (int i = 0; i < copies; ++i) {
      net::co_spawn(
          io,
          [this, &validating, request]() -> net::awaitable<lug::admission::admission_response> {
            const lug::admission::review_context context{"validate", std::chrono::steady_clock::now(), 10s, client};
            co_return co_await validating.review(request, context);
          },
          [&answers](std::exception_ptr, lug::admission::admission_response answer) {
            answers.push_back(std::move(answer));
          });
    }
    io.run_for(5s);
    io.restart();
    return answers;
  }
};

}  // namespace

TEST_SUITE("hold outcomes") {
  TEST_CASE("a pod the guard does not watch starts no hold") {
    fixture f;
    auto request = lug::test::pod_create(lug::test::job_pod("default", "something-else"), "default");
    f.review(request);
    CHECK(f.holds.started == 0);
    CHECK(f.holds.ended.empty());
  }

  TEST_CASE("flag true: one hold, ended flag_true") {
    fixture f;
    f.review(lug::test::pod_create(lug::test::job_pod()));
    CHECK(f.holds.started == 1);
    CHECK(f.holds.ended == std::vector{hold_outcome::flag_true});
  }

  TEST_CASE("flag false until the deadline: flag_not_true") {
    fixture f;
    f.api.script = {lug::test::value_read("false")};
    f.review(lug::test::pod_create(lug::test::job_pod()));
    CHECK(f.holds.ended == std::vector{hold_outcome::flag_not_true});
  }

  TEST_CASE("no read answers: read_failed, or read_failed_allowed with --on-read-error=allow") {
    fixture f;
    f.api.script = {lug::test::failed_read(read_outcome::unreachable)};
    SUBCASE("deny") {
      f.review(lug::test::pod_create(lug::test::job_pod()));
      CHECK(f.holds.ended == std::vector{hold_outcome::read_failed});
    }
    SUBCASE("allow") {
      f.policy.read_errors = lug::guard::on_read_error::allow;
      f.review(lug::test::pod_create(lug::test::job_pod()));
      CHECK(f.holds.ended == std::vector{hold_outcome::read_failed_allowed});
    }
  }

  TEST_CASE("beyond --max-held: too_many_held, and every started hold ends") {
    fixture f;
    f.api.script = {lug::test::value_read("false")};
    f.policy.max_held = 2;
    f.review(lug::test::pod_create(lug::test::job_pod()), 3);
    CHECK(f.holds.started == 3);
    REQUIRE(f.holds.ended.size() == 3);
    CHECK(std::count(f.holds.ended.begin(), f.holds.ended.end(), hold_outcome::too_many_held) == 1);
    CHECK(std::count(f.holds.ended.begin(), f.holds.ended.end(), hold_outcome::flag_not_true) == 2);
  }

  TEST_CASE("a client that goes away while held: abandoned at the next poll tick, and no more reads") {
    fixture f;
    f.api.script = {lug::test::value_read("false")};
    leaving_client client;
    client.present_for = 2;  // two reads seen with the client there, gone at the third
    f.client = &client;
    const auto answers = f.review(lug::test::pod_create(lug::test::job_pod()));
    CHECK(f.holds.ended == std::vector{hold_outcome::abandoned});
    REQUIRE(answers.size() == 1);
    CHECK(answers[0].abandoned());
    CHECK_FALSE(answers[0].allowed());
    CHECK(answers[0].outcome == lug::admission::review_outcome::abandoned);
    // The deadline is 300 ms at 50 ms a read: a hold kept for nobody would have read about 6 times.
    CHECK(f.reads.reads_started() == 3);
  }

  TEST_CASE("reads closed for shutdown: shutting_down") {
    fixture f;
    f.reads.close();
    f.review(lug::test::pod_create(lug::test::job_pod()));
    CHECK(f.holds.ended == std::vector{hold_outcome::shutting_down});
  }
}
