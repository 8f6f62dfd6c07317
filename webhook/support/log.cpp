#include "support/log.hpp"

#include <atomic>

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

namespace lug::log {
namespace {

std::atomic<format> current_format{format::text};

// Strings are dumped with invalid UTF-8 replaced: a log line must never throw because a
// request carried bad bytes.
template <typename Json>
std::string dump(const Json& value) {
  return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

bool needs_quotes(std::string_view text) {
  if (text.empty()) return true;
  for (char c : text) {
    if (c == ' ' || c == '"' || c == '=' || static_cast<unsigned char>(c) < 0x20) return true;
  }
  return false;
}

std::string text_line(std::string_view message, std::initializer_list<field> fields) {
  std::string line(message);
  for (const auto& f : fields) {
    line += ' ';
    line += f.key;
    line += '=';
    if (f.value.is_string()) {
      const auto& s = f.value.get_ref<const std::string&>();
      line += needs_quotes(s) ? dump(f.value) : s;
    } else {
      line += dump(f.value);
    }
  }
  return line;
}

// The JSON pattern opens the object with time and level; this supplies the rest,
// closing brace included.
std::string json_tail(std::string_view message, std::initializer_list<field> fields) {
  // Ordered, so that every line starts with msg and keeps the fields in the order given.
  nlohmann::ordered_json object = nlohmann::ordered_json::object();
  object["msg"] = std::string(message);
  for (const auto& f : fields) object[std::string(f.key)] = f.value;
  std::string text = dump(object);
  return text.substr(1);  // drop the leading '{'
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

void write(spdlog::level::level_enum level, std::string_view message, std::initializer_list<field> fields) {
  auto logger = spdlog::default_logger_raw();
  if (!logger->should_log(level)) return;
  const std::string line =
      current_format.load() == format::json ? json_tail(message, fields) : text_line(message, fields);
  logger->log(level, "{}", line);
}

}  // namespace lug::log
