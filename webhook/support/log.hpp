// Structured logging on top of spdlog.
//
// Every line is a message plus key/value fields. In text format a line reads
// `2026-11-25T10:00:00.000Z info admission uid=... decision=allowed`; in JSON format
// each line is one object: {"time":...,"level":...,"msg":...,<fields>}. Logs go to
// stderr so that commands can keep stdout for their own output. Safe to call from
// any thread; before setup() lines go to spdlog's default logger in text format.
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>
#include <spdlog/common.h>

namespace lug::log {

enum class format { text, json };

// Parses "text" or "json"; returns false for anything else.
bool parse_format(std::string_view text, format& out);
// Parses spdlog level names (trace, debug, info, warn, error, critical, off).
bool parse_level(std::string_view text, spdlog::level::level_enum& out);

void setup(spdlog::level::level_enum level, format fmt);

struct field {
  std::string_view key;
  nlohmann::json value;
};

void write(spdlog::level::level_enum level, std::string_view message, std::initializer_list<field> fields);

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
