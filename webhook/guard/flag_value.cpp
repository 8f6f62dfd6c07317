#include "guard/flag_value.hpp"

#include <array>

namespace lug::guard {
namespace {

// strconv.ParseBool's tables, in its order.
constexpr std::array<std::string_view, 6> true_spellings{"1", "t", "T", "TRUE", "true", "True"};
constexpr std::array<std::string_view, 6> false_spellings{"0", "f", "F", "FALSE", "false", "False"};

}  // namespace

flag_value parse_flag_value(std::string_view text) {
  for (const auto spelling : true_spellings) {
    if (text == spelling) return flag_value::true_value;
  }
  for (const auto spelling : false_spellings) {
    if (text == spelling) return flag_value::false_value;
  }
  return flag_value::invalid;
}

}  // namespace lug::guard
