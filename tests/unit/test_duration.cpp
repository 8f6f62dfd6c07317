#include <doctest/doctest.h>

#include "support/duration.hpp"

using namespace std::chrono_literals;
using lug::format_duration;
using lug::parse_duration;

TEST_SUITE("durations are written the way Kubernetes writes them") {
  TEST_CASE("whole values in every unit parse") {
    CHECK(parse_duration("500ms") == std::chrono::nanoseconds(500ms));
    CHECK(parse_duration("25s") == std::chrono::nanoseconds(25s));
    CHECK(parse_duration("1m") == std::chrono::nanoseconds(60s));
    CHECK(parse_duration("2h") == std::chrono::nanoseconds(2h));
    CHECK(parse_duration("10us") == std::chrono::nanoseconds(10us));
    CHECK(parse_duration("7ns") == std::chrono::nanoseconds(7));
  }
  TEST_CASE("compound and fractional values parse") {
    CHECK(parse_duration("1m30s") == std::chrono::nanoseconds(90s));
    CHECK(parse_duration("1.5s") == std::chrono::nanoseconds(1500ms));
    CHECK(parse_duration(".5s") == std::chrono::nanoseconds(500ms));
    CHECK(parse_duration("1h2m3s4ms") == std::chrono::nanoseconds(1h + 2min + 3s + 4ms));
  }
  TEST_CASE("a bare zero is zero") { CHECK(parse_duration("0") == std::chrono::nanoseconds(0)); }
  TEST_CASE("values without a unit, negative values, junk and overflow are rejected") {
    for (const char* bad : {"", "5", "-1s", "s", "1x", "1.s.", "5parsecs", "1 s", ".s", "99999999999999999999h"}) {
      CAPTURE(bad);
      CHECK_FALSE(parse_duration(bad).has_value());
    }
  }
  TEST_CASE("formatting gives the shortest exact spelling") {
    CHECK(format_duration(500ms) == "500ms");
    CHECK(format_duration(25s) == "25s");
    CHECK(format_duration(90s) == "1m30s");
    CHECK(format_duration(1500ms) == "1.5s");
    CHECK(format_duration(0s) == "0s");
    CHECK(format_duration(2h) == "2h0m");
  }
}
