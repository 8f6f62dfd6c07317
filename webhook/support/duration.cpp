#include "support/duration.hpp"

#include <array>
#include <cstdint>
#include <limits>

namespace lug {
namespace {

struct unit {
  std::string_view suffix;
  std::int64_t nanoseconds;
};

// Longest suffixes first so that "ms" is not read as "m" followed by garbage.
constexpr std::array units{
    unit{"ns", 1},
    unit{"us", 1'000},
    unit{"\xC2\xB5s", 1'000},  // U+00B5 micro sign, as Go accepts
    unit{"\xCE\xBCs", 1'000},  // U+03BC greek mu
    unit{"ms", 1'000'000},
    unit{"s", 1'000'000'000},
    unit{"m", 60'000'000'000},
    unit{"h", 3'600'000'000'000},
};

bool is_digit(char c) { return c >= '0' && c <= '9'; }

}  // namespace

std::optional<std::chrono::nanoseconds> parse_duration(std::string_view text) {
  if (text == "0") return std::chrono::nanoseconds{0};
  if (text.empty()) return std::nullopt;

  constexpr auto max = std::numeric_limits<std::int64_t>::max();
  std::int64_t total = 0;
  std::size_t pos = 0;
  while (pos < text.size()) {
    // Whole part.
    std::int64_t whole = 0;
    const std::size_t whole_start = pos;
    while (pos < text.size() && is_digit(text[pos])) {
      const int digit = text[pos] - '0';
      if (whole > (max - digit) / 10) return std::nullopt;
      whole = whole * 10 + digit;
      ++pos;
    }
    // Fraction, kept as digits scaled to 1e-9 of the unit (more digits are dropped).
    std::int64_t fraction = 0;
    std::int64_t fraction_scale = 1;
    bool has_fraction_digits = false;
    if (pos < text.size() && text[pos] == '.') {
      ++pos;
      while (pos < text.size() && is_digit(text[pos])) {
        if (fraction_scale < 1'000'000'000) {
          fraction = fraction * 10 + (text[pos] - '0');
          fraction_scale *= 10;
        }
        has_fraction_digits = true;
        ++pos;
      }
    }
    if (pos == whole_start || (pos == whole_start + 1 && text[whole_start] == '.' && !has_fraction_digits)) {
      return std::nullopt;
    }
    // Unit.
    const unit* matched = nullptr;
    for (const auto& u : units) {
      if (text.substr(pos, u.suffix.size()) == u.suffix &&
          (matched == nullptr || u.suffix.size() > matched->suffix.size())) {
        matched = &u;
      }
    }
    if (matched == nullptr) return std::nullopt;
    pos += matched->suffix.size();

    if (whole > max / matched->nanoseconds) return std::nullopt;
    std::int64_t value = whole * matched->nanoseconds;
    // fraction / fraction_scale of a unit; computed in long double to keep sub-ns units exact enough.
    value += static_cast<std::int64_t>(static_cast<long double>(fraction) * static_cast<long double>(matched->nanoseconds) /
                                       static_cast<long double>(fraction_scale));
    if (value < 0 || total > max - value) return std::nullopt;
    total += value;
  }
  return std::chrono::nanoseconds{total};
}

std::string format_duration(std::chrono::nanoseconds value) {
  using namespace std::chrono;
  const auto ns = value.count();
  if (ns == 0) return "0s";
  if (ns < 0) return "-" + format_duration(-value);
  if (ns % 1'000'000 != 0 && ns < 1'000'000'000) {
    if (ns % 1'000 == 0) return std::to_string(ns / 1'000) + "us";
    return std::to_string(ns) + "ns";
  }
  if (ns < 1'000'000'000) return std::to_string(ns / 1'000'000) + "ms";

  std::string out;
  const auto hours = ns / 3'600'000'000'000;
  const auto minutes = (ns / 60'000'000'000) % 60;
  const auto rest_ns = ns % 60'000'000'000;
  if (hours > 0) out += std::to_string(hours) + "h";
  if (hours > 0 || minutes > 0) out += std::to_string(minutes) + "m";
  if (rest_ns != 0 || out.empty()) {
    std::string seconds = std::to_string(rest_ns / 1'000'000'000);
    auto frac = rest_ns % 1'000'000'000;
    if (frac != 0) {
      std::string digits = std::to_string(frac);
      digits.insert(0, 9 - digits.size(), '0');
      while (!digits.empty() && digits.back() == '0') digits.pop_back();
      seconds += "." + digits;
    }
    out += seconds + "s";
  }
  return out;
}

}  // namespace lug
