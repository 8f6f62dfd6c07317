#include "support/log.hpp"

#include <atomic>
#include <cmath>
#include <iterator>
#include <type_traits>

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include "support/json_text.hpp"

namespace lug::log {
namespace {

std::atomic<format> current_format{format::text};

// Lines are built in a buffer per thread, kept between lines: no allocation per line once
// a thread has written its longest one. A buffer grown past this by an unusually long
// line (a long error message) is given back afterwards.
constexpr std::size_t line_buffer_keep = 4096;

bool needs_quotes(std::string_view text) {
  if (text.empty()) return true;
  for (const char c : text) {
    if (c == ' ' || c == '"' || c == '=' || static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x80) {
      return true;
    }
  }
  return false;
}

void append_value(std::string& out, const value& v, format fmt) {
  std::visit(
      [&](const auto& x) {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, std::string_view>) {
          if (fmt == format::text && !needs_quotes(x)) {
            out += x;
          } else {
            append_json_string(out, x);
          }
        } else if constexpr (std::is_same_v<T, bool>) {
          out += x ? "true" : "false";
        } else if constexpr (std::is_same_v<T, double>) {
          if (std::isfinite(x)) {
            fmt::format_to(std::back_inserter(out), "{}", x);
          } else {
            out += "null";  // JSON has no infinity or NaN
          }
        } else {
          fmt::format_to(std::back_inserter(out), "{}", x);
        }
      },
      v.get());
}

}  // namespace

bool parse_format(std::string_view text, format& out) {
  if (text == "text") {
    out = format::text;
    return true;
  }
  if (text == "json") {
    out = format::json;
    return true;
  }
  return false;
}

bool parse_level(std::string_view text, spdlog::level::level_enum& out) {
  static constexpr std::pair<std::string_view, spdlog::level::level_enum> names[] = {
      {"trace", spdlog::level::trace}, {"debug", spdlog::level::debug}, {"info", spdlog::level::info},
      {"warn", spdlog::level::warn},   {"warning", spdlog::level::warn}, {"error", spdlog::level::err},
      {"critical", spdlog::level::critical}, {"off", spdlog::level::off}};
  for (const auto& [name, level] : names) {
    if (text == name) {
      out = level;
      return true;
    }
  }
  return false;
}

void setup(spdlog::level::level_enum level, format fmt) {
  auto logger = std::make_shared<spdlog::logger>("lug", std::make_shared<spdlog::sinks::stderr_sink_mt>());
  if (fmt == format::json) {
    logger->set_pattern(R"({"time":"%Y-%m-%dT%H:%M:%S.%eZ","level":"%l",%v)", spdlog::pattern_time_type::utc);
  } else {
    logger->set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %l %v", spdlog::pattern_time_type::utc);
  }
  logger->set_level(level);
  // Warnings and errors are rare and matter most when the process is about to die.
  logger->flush_on(spdlog::level::warn);
  spdlog::set_default_logger(std::move(logger));
  current_format.store(fmt);
}

void append_line(std::string& out, format fmt, std::string_view message, std::initializer_list<field> fields) {
  if (fmt == format::json) {
    out += "\"msg\":";
    append_json_string(out, message);
    for (const auto& f : fields) {
      out += ',';
      append_json_string(out, f.key);
      out += ':';
      append_value(out, f.val, fmt);
    }
    out += '}';
    return;
  }
  out += message;
  for (const auto& f : fields) {
    out += ' ';
    out += f.key;
    out += '=';
    append_value(out, f.val, fmt);
  }
}

void write(spdlog::level::level_enum level, std::string_view message, std::initializer_list<field> fields) {
  auto* logger = spdlog::default_logger_raw();
  if (!logger->should_log(level)) return;
  thread_local std::string line;
  line.clear();
  append_line(line, current_format.load(), message, fields);
  logger->log(level, spdlog::string_view_t(line.data(), line.size()));
  if (line.capacity() > line_buffer_keep) std::string().swap(line);
}

}  // namespace lug::log
