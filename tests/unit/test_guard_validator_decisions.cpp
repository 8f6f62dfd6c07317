// What the validating policy decides for what the API server said (guard/validator.hpp),
// run through the scripted validator the fuzz targets use too (tests/doubles): allow on a
// fresh true read, 403 for an answer that is not true, 503 when no read answered (or allow,
// with --on-read-error=allow), and no read at all for a pod the guard does not watch.
#include <doctest/doctest.h>

#include "guard_fixtures.hpp"
#include "scripted_validator.hpp"

namespace {

using lug::guard::on_read_error;
using lug::guard::read_outcome;
using lug::test::failed_read;
using lug::test::forbidden_read;
using lug::test::immediate_policy;
using lug::test::run_validator;
using lug::test::value_read;

const auto uninstall_pod = lug::test::pod_create(lug::test::job_pod());

int status_code(const lug::admission::admission_response& decision) {
  return decision.status ? decision.status->code : 0;
}

}  // namespace

TEST_SUITE("validator decisions") {
  TEST_CASE("should allow a pod of the uninstall Job once a fresh read says true") {
    const auto run = run_validator(uninstall_pod, {value_read("true")}, immediate_policy());
    CHECK(run.decision.allowed());
    CHECK(run.reads == 1);
  }

  TEST_CASE("should keep reading while the flag is not true, and allow when it turns true") {
    const auto run = run_validator(uninstall_pod, {value_read("false"), value_read("false"), value_read("true")},
                                   immediate_policy());
    CHECK(run.decision.allowed());
    CHECK(run.reads == 3);
  }

  TEST_CASE("should allow a pod it does not guard without reading") {
    const auto other_pod = lug::test::pod_create(lug::test::job_pod("default", "something-else"), "default");
    const auto run = run_validator(other_pod, {value_read("false")}, immediate_policy());
    CHECK(run.decision.allowed());
    CHECK(run.reads == 0);
  }

  TEST_CASE("should deny with 403 when the flag was read and is not true") {
    for (const auto read_errors : {on_read_error::deny, on_read_error::allow}) {
      CAPTURE(static_cast<int>(read_errors));
      const auto run = run_validator(uninstall_pod, {value_read("false"), forbidden_read()}, immediate_policy(read_errors));
      CHECK_FALSE(run.decision.allowed());
      CHECK(status_code(run.decision) == 403);
      CHECK(run.reads == 2);
    }
  }

  TEST_CASE("should deny with 503 when no read answered, unless --on-read-error=allow") {
    const std::vector script{failed_read(read_outcome::unreachable), failed_read(read_outcome::unauthorized)};
    SUBCASE("deny") {
      const auto run = run_validator(uninstall_pod, script, immediate_policy(on_read_error::deny));
      CHECK_FALSE(run.decision.allowed());
      CHECK(status_code(run.decision) == 503);
      CHECK(run.reads == 2);  // unreachable is retried; unauthorized ends the hold
    }
    SUBCASE("allow") {
      const auto run = run_validator(uninstall_pod, script, immediate_policy(on_read_error::allow));
      CHECK(run.decision.allowed());
    }
  }

  TEST_CASE("should end the hold at once, with 503, when reading is forbidden") {
    const auto run = run_validator(uninstall_pod, {forbidden_read(), value_read("true")}, immediate_policy());
    CHECK_FALSE(run.decision.allowed());
    CHECK(status_code(run.decision) == 503);
    CHECK(run.reads == 1);
  }
}
