#include "supervisor/arguments.hpp"

#include <charconv>
#include <limits>

namespace lug::supervisor {
namespace {

bool parse_whole_number(std::string_view text, long long& out) {
  if (text.empty()) return false;
  const auto* end = text.data() + text.size();
  const auto [rest, error] = std::from_chars(text.data(), end, out);
  return error == std::errc() && rest == end;
}

// Splits "--name=value" into name and value; a flag without `=` takes the next argument.
struct flag_parts {
  std::string_view name;
  std::string_view value;
  bool has_value = false;
};

flag_parts split_flag(std::string_view arg) {
  const auto equals = arg.find('=');
  if (equals == std::string_view::npos) return {arg, {}, false};
  return {arg.substr(0, equals), arg.substr(equals + 1), true};
}

usage_problem problem(std::string message) { return usage_problem{std::move(message)}; }

}  // namespace

std::optional<std::chrono::milliseconds> parse_delay(std::string_view text) {
  long long factor = 0;
  if (text.ends_with("ms")) {
    factor = 1;
    text.remove_suffix(2);
  } else if (text.ends_with("s")) {
    factor = 1000;
    text.remove_suffix(1);
  } else {
    return std::nullopt;
  }
  long long number = 0;
  if (!parse_whole_number(text, number) || number < 0) return std::nullopt;
  if (number > std::numeric_limits<long long>::max() / factor) return std::nullopt;
  return std::chrono::milliseconds(number * factor);
}

parse_result parse_arguments(const std::vector<std::string_view>& args) {
  options parsed;
  std::size_t i = 0;
  for (; i < args.size(); ++i) {
    const auto arg = args[i];
    if (arg == "--") {
      ++i;
      break;
    }
    if (!arg.starts_with("-")) break;
    if (arg == "-h" || arg == "--help") return help_requested{};
    auto [name, value, has_value] = split_flag(arg);
    if (name != "--attempts" && name != "--delay") {
      return problem("unknown flag " + std::string(name));
    }
    if (!has_value) {
      if (i + 1 >= args.size()) return problem(std::string(name) + " needs a value");
      value = args[++i];
    }
    if (name == "--attempts") {
      long long number = 0;
      if (!parse_whole_number(value, number) || number < 1 || number > max_attempts) {
        return problem("invalid value \"" + std::string(value) + "\" for --attempts: want a whole number from 1 to " +
                       std::to_string(max_attempts));
      }
      parsed.attempts = static_cast<int>(number);
    } else {
      const auto delay = parse_delay(value);
      if (!delay || *delay > max_first_delay) {
        return problem("invalid value \"" + std::string(value) +
                       "\" for --delay: want a duration such as 500ms or 2s, at most " +
                       format_delay(max_first_delay));
      }
      parsed.first_delay = *delay;
    }
  }
  for (; i < args.size(); ++i) parsed.command.emplace_back(args[i]);
  if (parsed.command.empty()) return problem("no command given: put it after --");
  if (parsed.command.front().empty()) return problem("the command's name is empty");
  return parsed;
}

std::string usage_text() {
  return std::string("usage: ") + std::string(program_name) +
         " [--attempts N] [--delay D] -- COMMAND [ARGS...]\n"
         "\n"
         "Runs COMMAND (longhorn-manager uninstall) and passes its output, signals and exit status\n"
         "through. Runs it again only when it exited 1 having printed\n"
         "  \"" + std::string(flag_refusal_marker) + "\"\n"
         "and not \"" + std::string(uninstall_started_marker) +
         "\": longhorn-manager read the flag before its Settings cache\n"
         "synced (longhorn/longhorn#10483), and had deleted nothing.\n"
         "\n"
         "  --attempts N  runs at most N times in all (default " + std::to_string(default_attempts) + ", at most " +
         std::to_string(max_attempts) + ")\n"
         "  --delay D     pause before the first retry, doubling for each later one up to " +
         format_delay(max_retry_delay) + " (default " + format_delay(default_first_delay) + ")\n"
         "\n"
         "Exit status: the command's, or 128+N when signal N killed it; 125 for a usage error,\n"
         "126 when COMMAND cannot be run, 127 when it is not found.\n";
}

}  // namespace lug::supervisor
