#include <doctest/doctest.h>

#include <cstdint>
#include <limits>
#include <string>

#include <nlohmann/json.hpp>

#include "support/log.hpp"

using lug::log::append_line;
using lug::log::format;

namespace {

std::string json_line(std::string_view message, std::initializer_list<lug::log::field> fields) {
  std::string out = "{";  // the pattern opens the object
  append_line(out, format::json, message, fields);
  return out;
}

std::string text_line(std::string_view message, std::initializer_list<lug::log::field> fields) {
  std::string out;
  append_line(out, format::text, message, fields);
  return out;
}

}  // namespace

TEST_SUITE("log lines") {
  TEST_CASE("a JSON line is one object: msg first, then the fields in the order given") {
    const std::string uid = "u-1";
    const auto line = json_line("admission", {{"uid", uid}, {"allowed", true}, {"count", 3}, {"ms", 1.5}});
    CHECK(line == R"({"msg":"admission","uid":"u-1","allowed":true,"count":3,"ms":1.5})");
    const auto parsed = nlohmann::ordered_json::parse(line);
    CHECK(parsed.begin().key() == "msg");
  }
  TEST_CASE("integers keep their full range and sign") {
    const auto parsed = nlohmann::json::parse(json_line(
        "m", {{"max", std::numeric_limits<std::uint64_t>::max()}, {"min", std::numeric_limits<std::int64_t>::min()}}));
    CHECK(parsed["max"].get<std::uint64_t>() == std::numeric_limits<std::uint64_t>::max());
    CHECK(parsed["min"].get<std::int64_t>() == std::numeric_limits<std::int64_t>::min());
  }
  TEST_CASE("numbers JSON cannot express are logged as null") {
    const auto parsed = nlohmann::json::parse(
        json_line("m", {{"inf", std::numeric_limits<double>::infinity()}, {"nan", std::numeric_limits<double>::quiet_NaN()}}));
    CHECK(parsed["inf"].is_null());
    CHECK(parsed["nan"].is_null());
  }
  TEST_CASE("quotes, backslashes and control characters are escaped, and the line stays one line") {
    const std::string nasty = "a\"b\\c\nd\re\tf\x01g\x1fh";
    const auto line = json_line("m\n", {{"k\"", nasty}});
    CHECK(line.find('\n') == std::string::npos);
    const auto parsed = nlohmann::json::parse(line);
    CHECK(parsed["msg"] == "m\n");
    CHECK(parsed["k\""] == nasty);
  }
  TEST_CASE("UTF-8 is kept, and bytes that are not UTF-8 become U+FFFD instead of failing") {
    const auto parsed = nlohmann::json::parse(json_line("m", {{"ok", "gr\xc3\xbc\xc3\x9f"}, {"bad", "x\xff\xfey"}}));
    CHECK(parsed["ok"] == "gr\xc3\xbc\xc3\x9f");
    CHECK(parsed["bad"].get<std::string>().find("\xef\xbf\xbd") != std::string::npos);
    CHECK(parsed["bad"].get<std::string>().front() == 'x');
  }
  TEST_CASE("text lines quote only the values that need it") {
    CHECK(text_line("admission", {{"uid", "u-1"}, {"reason", "flag not true"}, {"n", 2}, {"empty", ""}}) ==
          R"(admission uid=u-1 reason="flag not true" n=2 empty="")");
    CHECK(text_line("m", {{"k", "a=b"}}) == R"(m k="a=b")");
    CHECK(text_line("m", {{"k", "bad\xff"}}) == "m k=\"bad\xef\xbf\xbd\"");
  }
}
