// Structured logging on top of spdlog.
//
// Every line is a message plus key/value fields. In text format a line reads
// `2026-11-25T10:00:00.000Z info admission uid=... decision=allowed`; in JSON format
// each line is one object: {"time":...,"level":...,"msg":...,<fields>}. Logs go to
// stderr so that commands can keep stdout for their own output. Safe to call from
// any thread; before setup() lines go to spdlog's default logger in text format.
//
// A line is written once per admission, so it is built without a JSON DOM: field values
// are views of the caller's data (valid for the call), appended straight into a
// per-thread buffer.
#pragma once

#include <concepts>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <variant>

#include <spdlog/common.h>

namespace lug::log {

enum class format { text, json };

// Parses "text" or "json"; returns false for anything else.
bool parse_format(std::string_view text, format& out);
// Parses spdlog level names (trace, debug, info, warn, error, critical, off).
bool parse_level(std::string_view text, spdlog::level::level_enum& out);

void setup(spdlog::level::level_enum level, format fmt);

// A field's value: a string (viewed, not copied), a boolean, an integer or a number.
// Implicit constructors on purpose: call sites read {"key", x} whatever x's type.
class value {
 public:
  value(std::string_view text) : v_(text) {}
  value(const std::string& text) : v_(std::string_view(text)) {}
  value(const char* text) : v_(std::string_view(text == nullptr ? "" : text)) {}
  value(bool flag) : v_(flag) {}
  template <std::signed_integral T>
  value(T number) : v_(static_cast<std::int64_t>(number)) {}
  template <std::unsigned_integral T>
    requires(!std::same_as<T, bool>)
  value(T number) : v_(static_cast<std::uint64_t>(number)) {}
  value(double number) : v_(number) {}

  const std::variant<std::string_view, bool, std::int64_t, std::uint64_t, double>& get() const { return v_; }

 private:
  std::variant<std::string_view, bool, std::int64_t, std::uint64_t, double> v_;
};

struct field {
  std::string_view key;
  value val;
};

void write(spdlog::level::level_enum level, std::string_view message, std::initializer_list<field> fields);

// What write() puts after the time and level: `message key=value...` in text format; in
// JSON format `"msg":...,"key":value...}` (the pattern opens the object). Strings are
// escaped as JSON (in text format only when they need quotes), and bytes that are not
// UTF-8 become U+FFFD: a log line never fails because a request carried bad bytes.
void append_line(std::string& out, format fmt, std::string_view message, std::initializer_list<field> fields);

inline void debug(std::string_view message, std::initializer_list<field> fields = {}) {
  write(spdlog::level::debug, message, fields);
}
inline void info(std::string_view message, std::initializer_list<field> fields = {}) {
  write(spdlog::level::info, message, fields);
}
inline void warn(std::string_view message, std::initializer_list<field> fields = {}) {
  write(spdlog::level::warn, message, fields);
}
inline void error(std::string_view message, std::initializer_list<field> fields = {}) {
  write(spdlog::level::err, message, fields);
}

}  // namespace lug::log
