#include "guard/quoted_value.hpp"

#include <nlohmann/json.hpp>

namespace lug::guard {
namespace {

// At most max_quoted_value_bytes, backing off to the start of a UTF-8 character so that
// the prefix stays valid text.
std::string_view bounded_prefix(std::string_view value) {
  if (value.size() <= max_quoted_value_bytes) return value;
  std::size_t end = max_quoted_value_bytes;
  while (end > 0 && (static_cast<unsigned char>(value[end]) & 0xC0U) == 0x80U) --end;
  return value.substr(0, end);
}

std::string cut_note(std::string_view value, std::string_view prefix) {
  return "... (cut: the first " + std::to_string(prefix.size()) + " of " + std::to_string(value.size()) + " bytes)";
}

}  // namespace

std::string quote_value(std::string_view value) {
  const auto prefix = bounded_prefix(value);
  // `replace`: a value that is not valid UTF-8 is still quoted, never an exception.
  std::string quoted = nlohmann::json(std::string(prefix)).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  if (prefix.size() < value.size()) quoted += cut_note(value, prefix);
  return quoted;
}

std::string cut_value(std::string_view value) {
  const auto prefix = bounded_prefix(value);
  std::string text(prefix);
  if (prefix.size() < value.size()) text += cut_note(value, prefix);
  return text;
}

}  // namespace lug::guard
