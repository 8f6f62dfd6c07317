#include "cli/flags.hpp"

#include <charconv>
#include <iostream>

#include "support/duration.hpp"
#include "support/log.hpp"

namespace lug::cli {

std::chrono::nanoseconds duration_flag(const cxxopts::ParseResult& parsed, const std::string& name) {
  const auto text = parsed[name].as<std::string>();
  const auto value = parse_duration(text);
  if (!value) {
    throw usage_error("invalid value \"" + text + "\" for --" + name +
                      ": want a duration such as 500ms, 25s or 1m");
  }
  return *value;
}

long long integer_flag(const cxxopts::ParseResult& parsed, const std::string& name, long long min, long long max) {
  const auto text = parsed[name].as<std::string>();
  long long value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size() || value < min || value > max) {
    throw usage_error("invalid value \"" + text + "\" for --" + name + ": want a whole number from " +
                      std::to_string(min) + " to " + std::to_string(max));
  }
  return value;
}

void add_logging_flags(cxxopts::Options& options) {
  options.add_options("Logging")
      ("log-level", "trace, debug, info, warn, error or off", cxxopts::value<std::string>()->default_value("info"))
      ("log-format", "text or json (one JSON object per line)", cxxopts::value<std::string>()->default_value("text"));
}

void apply_logging_flags(const cxxopts::ParseResult& parsed) {
  const auto level_text = parsed["log-level"].as<std::string>();
  const auto format_text = parsed["log-format"].as<std::string>();
  spdlog::level::level_enum level{};
  log::format format{};
  if (!log::parse_level(level_text, level)) {
    throw usage_error("invalid value \"" + level_text + "\" for --log-level: want trace, debug, info, warn, error or off");
  }
  if (!log::parse_format(format_text, format)) {
    throw usage_error("invalid value \"" + format_text + "\" for --log-format: want text or json");
  }
  log::setup(level, format);
}

std::optional<cxxopts::ParseResult> parse_flags(cxxopts::Options& options, int argc, char** argv) {
  options.add_options()("h,help", "Show this help");
  cxxopts::ParseResult parsed;
  try {
    parsed = options.parse(argc, argv);
  } catch (const cxxopts::exceptions::exception& e) {
    throw usage_error(e.what());
  }
  if (parsed.count("help") != 0) {
    std::cout << options.help() << std::flush;
    return std::nullopt;
  }
  if (!parsed.unmatched().empty()) {
    throw usage_error("unexpected argument \"" + parsed.unmatched().front() + "\"");
  }
  return parsed;
}

}  // namespace lug::cli
