#include <doctest/doctest.h>

#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

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

struct opaque {};  // no ==

template <typename R, typename V>
concept comparable_with_value = requires(const R& r, const V& v) { r == v; };

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

  TEST_CASE("an error assigned over a value replaces it, as a failing step of a sequence does") {
    result<void, std::string> done;
    REQUIRE(done.has_value());
    done = unexpected(std::string("cannot write"));
    REQUIRE_FALSE(done.has_value());
    CHECK(done.error() == "cannot write");

    result<int, failure> number = 3;
    number = unexpected(failure{4, "late"});
    REQUIRE_FALSE(number.has_value());
    CHECK(number.error().message == "late");
  }

  TEST_CASE("an error made of what converts to its type, as a string literal for a string") {
    const result<std::string, std::string> r = unexpected("no token");
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error() == "no token");
  }

  TEST_CASE("an error converts implicitly only where its type does, as std::expected's") {
    using to_string = result<void, std::string>;
    static_assert(std::is_convertible_v<unexpected<const char*>, to_string>);
    static_assert(std::is_constructible_v<to_string, unexpected<std::string_view>> &&
                  !std::is_convertible_v<unexpected<std::string_view>, to_string>);
    using to_vector = result<int, std::vector<int>>;  // vector's size constructor is explicit
    static_assert(!std::is_convertible_v<unexpected<int>, to_vector>);
    const to_string r{unexpected(std::string_view("spelled out"))};
    CHECK(r.error() == "spelled out");
  }

  TEST_CASE("a result<bool> is not made from another result through its bool") {
    static_assert(!std::is_constructible_v<result<bool, failure>, result<int, failure>>);
    static_assert(std::is_constructible_v<result<bool, failure>, bool>);
  }

  TEST_CASE("compares with a value only where the value's type has ==") {
    static_assert(comparable_with_value<result<int, failure>, int>);
    static_assert(!comparable_with_value<result<opaque, failure>, opaque>);
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
