#include <doctest/doctest.h>

#include <memory>
#include <string>
#include <type_traits>
#include <utility>

#include "support/result.hpp"

using lug::bad_result_access;
using lug::result;
using lug::unexpected;

namespace {

struct failure {
  int kind = 0;
  std::string message;
};

result<int, failure> half_of(int n) {
  if (n % 2 != 0) return unexpected(failure{1, std::to_string(n) + " is odd"});
  return n / 2;
}

result<void, std::string> check_positive(int n) {
  if (n <= 0) return unexpected(std::to_string(n) + " is not positive");
  return {};
}

}  // namespace

TEST_SUITE("result") {
  TEST_CASE("holds the value a call produced") {
    const auto r = half_of(8);
    REQUIRE(r.has_value());
    CHECK(static_cast<bool>(r));
    CHECK(r.value() == 4);
    CHECK(*r == 4);
  }

  TEST_CASE("holds the error that says why there is no value") {
    const auto r = half_of(7);
    REQUIRE_FALSE(r.has_value());
    CHECK_FALSE(static_cast<bool>(r));
    CHECK(r.error().kind == 1);
    CHECK(r.error().message == "7 is odd");
  }

  TEST_CASE("reading the side it does not hold throws, it is never undefined") {
    const auto odd = half_of(7);
    CHECK_THROWS_AS((void)odd.value(), bad_result_access);
    CHECK_THROWS_AS((void)*odd, bad_result_access);
    const auto even = half_of(8);
    CHECK_THROWS_AS((void)even.error(), bad_result_access);
    const result<std::string, failure> text = unexpected(failure{2, "gone"});
    CHECK_THROWS_AS((void)text->size(), bad_result_access);
  }

  TEST_CASE("a value and an error of one type are told apart by how they were made") {
    const result<std::string, std::string> value = std::string("token");
    const result<std::string, std::string> error = unexpected(std::string("file is empty"));
    REQUIRE(value.has_value());
    CHECK(*value == "token");
    REQUIRE_FALSE(error.has_value());
    CHECK(error.error() == "file is empty");
  }

  TEST_CASE("moves a value or an error out without copying it") {
    result<std::unique_ptr<int>, std::string> owned = std::make_unique<int>(5);
    const std::unique_ptr<int> taken = std::move(owned).value();
    REQUIRE(taken != nullptr);
    CHECK(*taken == 5);

    result<int, std::unique_ptr<std::string>> failed = unexpected(std::make_unique<std::string>("why"));
    const auto why = std::move(failed).error();
    REQUIRE(why != nullptr);
    CHECK(*why == "why");
  }

  TEST_CASE("the value goes through member access") {
    result<std::string, failure> r = std::string("abc");
    CHECK(r->size() == 3);
    r->push_back('d');
    CHECK(*r == "abcd");
  }

  TEST_CASE("compares equal to a value only when it holds an equal one") {
    CHECK(half_of(8) == 4);
    CHECK_FALSE(half_of(8) == 5);
    CHECK_FALSE(half_of(7) == 3);
    CHECK(half_of(7) != 3);
  }

  TEST_CASE("a default-made result holds a value-initialized value, as std::expected does") {
    const result<int, failure> r;
    REQUIRE(r.has_value());
    CHECK(*r == 0);
  }

  TEST_CASE("result<void> is success when default-made and carries only an error otherwise") {
    const auto ok = check_positive(3);
    CHECK(ok.has_value());
    CHECK_NOTHROW(ok.value());
    CHECK_THROWS_AS((void)ok.error(), bad_result_access);

    const auto bad = check_positive(-1);
    REQUIRE_FALSE(bad.has_value());
    CHECK(bad.error() == "-1 is not positive");
    CHECK_THROWS_AS(bad.value(), bad_result_access);
  }

  TEST_CASE("a value converts implicitly only where its type does") {
    static_assert(std::is_convertible_v<const char*, result<std::string, failure>>);
    using owning = result<std::unique_ptr<int>, failure>;  // unique_ptr's constructor is explicit
    static_assert(std::is_constructible_v<owning, int*> && !std::is_convertible_v<int*, owning>);
    static_assert(!std::is_convertible_v<failure, result<int, failure>>, "an error is spelled unexpected(e)");
    const result<std::string, failure> r = "text";
    CHECK(*r == "text");
  }
}
