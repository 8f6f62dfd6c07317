// The deleting-confirmation-flag is read exactly as Go's strconv.ParseBool reads it.
#include <doctest/doctest.h>

#include "guard/flag_value.hpp"

using lug::guard::flag_value;
using lug::guard::parse_flag_value;

TEST_CASE("the six spellings strconv.ParseBool accepts as true read as true") {
  for (const char* text : {"1", "t", "T", "TRUE", "true", "True"}) {
    CAPTURE(text);
    CHECK(parse_flag_value(text) == flag_value::true_value);
  }
}

TEST_CASE("the six spellings strconv.ParseBool accepts as false read as false") {
  for (const char* text : {"0", "f", "F", "FALSE", "false", "False"}) {
    CAPTURE(text);
    CHECK(parse_flag_value(text) == flag_value::false_value);
  }
}

TEST_CASE("anything else is invalid, never true: empty, padded, other cases, other words") {
  for (const char* text : {"", " true", "true ", "true\n", "tRUE", "TRue", "yes", "y", "on", "2", "01", "\"true\""}) {
    CAPTURE(text);
    CHECK(parse_flag_value(text) == flag_value::invalid);
  }
}

TEST_CASE("a value with an embedded NUL is invalid") {
  CHECK(parse_flag_value(std::string_view("true\0", 5)) == flag_value::invalid);
}

TEST_CASE("each value has a name for logs") {
  CHECK(lug::guard::to_string(flag_value::true_value) == "true");
  CHECK(lug::guard::to_string(flag_value::false_value) == "false");
  CHECK(lug::guard::to_string(flag_value::invalid) == "invalid");
}
