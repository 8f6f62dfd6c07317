// How longhorn-manager reads a boolean setting such as deleting-confirmation-flag.
//
// Longhorn parses the Setting's value with Go's strconv.ParseBool, so exactly these
// spellings count: "1", "t", "T", "TRUE", "true", "True" are true; "0", "f", "F", "FALSE",
// "false", "False" are false; anything else (including "", " true", "yes") is an error,
// which Longhorn treats as "not confirmed". We must agree with it byte for byte: letting a
// pod run on a value Longhorn does not read as true is the failure this guard prevents.
#pragma once

#include <string_view>

namespace lug::guard {

enum class flag_value { true_value, false_value, invalid };

flag_value parse_flag_value(std::string_view text);

constexpr std::string_view to_string(flag_value value) {
  switch (value) {
    case flag_value::true_value: return "true";
    case flag_value::false_value: return "false";
    case flag_value::invalid: return "invalid";
  }
  return "invalid";
}

}  // namespace lug::guard
