#include <doctest/doctest.h>

#include <string>
#include <string_view>
#include <vector>

#include "supervisor/arguments.hpp"

using namespace std::chrono_literals;
using lug::supervisor::options;
using lug::supervisor::parse_arguments;
using lug::supervisor::parse_delay;
using lug::supervisor::usage_problem;

namespace {

lug::supervisor::parse_result parsed(std::vector<std::string_view> args) { return parse_arguments(args); }

options accepted(std::vector<std::string_view> args) {
  const auto result = parsed(std::move(args));
  if (const auto* problem = std::get_if<usage_problem>(&result)) FAIL("rejected: " << problem->message);
  REQUIRE(std::holds_alternative<options>(result));
  return std::get<options>(result);
}

std::string rejected(std::vector<std::string_view> args) {
  const auto result = parsed(std::move(args));
  REQUIRE(std::holds_alternative<usage_problem>(result));
  return std::get<usage_problem>(result).message;
}

}  // namespace

TEST_SUITE("the supervisor's command line") {
  TEST_CASE("the mutation's shape: --attempts=N -- and the original command, untouched") {
    const auto o = accepted({"--attempts=3", "--", "longhorn-manager", "uninstall", "--force"});
    CHECK(o.attempts == 3);
    CHECK(o.first_delay == lug::supervisor::default_first_delay);
    CHECK(o.command == std::vector<std::string>{"longhorn-manager", "uninstall", "--force"});
  }
  TEST_CASE("defaults: five attempts, one second") {
    const auto o = accepted({"--", "true"});
    CHECK(o.attempts == 5);
    CHECK(o.first_delay == 1000ms);
  }
  TEST_CASE("values as the next argument, and the command's own flags after -- are left alone") {
    const auto o = accepted({"--attempts", "2", "--delay", "250ms", "--", "cmd", "--attempts", "9", "--"});
    CHECK(o.attempts == 2);
    CHECK(o.first_delay == 250ms);
    CHECK(o.command == std::vector<std::string>{"cmd", "--attempts", "9", "--"});
  }
  TEST_CASE("a first argument that is not a flag starts the command") {
    CHECK(accepted({"longhorn-manager", "uninstall"}).command.size() == 2);
  }
  TEST_CASE("--help") {
    CHECK(std::holds_alternative<lug::supervisor::help_requested>(parsed({"--help"})));
    CHECK(lug::supervisor::usage_text().find("--attempts") != std::string::npos);
  }
  TEST_CASE("usage problems name what is wrong") {
    CHECK(rejected({}).find("no command") != std::string::npos);
    CHECK(rejected({"--attempts=2", "--"}).find("no command") != std::string::npos);
    CHECK(rejected({"--", ""}).find("empty") != std::string::npos);
    CHECK(rejected({"--retries=2", "--", "x"}).find("unknown flag --retries") != std::string::npos);
    CHECK(rejected({"--attempts"}).find("--attempts needs a value") != std::string::npos);
    CHECK(accepted({"--delay=30s", "--", "x"}).first_delay == 30000ms);
    for (const std::string_view bad : {"0", "-1", "21", "x", "", "2.5", "5 ", "99999999999999999999"}) {
      CAPTURE(bad);
      const std::string flag = "--attempts=" + std::string(bad);
      CHECK(rejected({flag, "--", "x"}).find("--attempts") != std::string::npos);
    }
    for (const std::string_view bad : {"1", "1m", "ms", "s", "-1s", "31s", "1.5s", "99999999999999999999s"}) {
      CAPTURE(bad);
      CHECK(rejected({"--delay", bad, "--", "x"}).find("--delay") != std::string::npos);
    }
  }
  TEST_CASE("the exit codes of usage problems and launch failures differ from each other and from 0 and 1") {
    CHECK(lug::supervisor::exit_usage == 125);
    CHECK(lug::supervisor::exit_cannot_run == 126);
    CHECK(lug::supervisor::exit_not_found == 127);
  }
}

TEST_SUITE("--delay values") {
  TEST_CASE("whole milliseconds or seconds") {
    CHECK(parse_delay("0s") == 0ms);
    CHECK(parse_delay("500ms") == 500ms);
    CHECK(parse_delay("2s") == 2000ms);
    CHECK(parse_delay("60s") == 60000ms);
  }
  TEST_CASE("nothing else") {
    for (const std::string_view bad : {"", "s", "ms", "2", "2m", "2 s", " 2s", "+2s", "2.0s", "0x10s"}) {
      CAPTURE(bad);
      CHECK_FALSE(parse_delay(bad).has_value());
    }
  }
}
