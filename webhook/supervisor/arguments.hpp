// The supervisor's command line:
//
//   longhorn-uninstall-supervisor [--attempts N] [--delay D] -- COMMAND [ARGS...]
//
// Flags take their value as the next argument or after `=`. `--` ends the flags; the
// command and its arguments follow untouched (a first argument not starting with `-` also
// ends the flags). Bad input is a usage problem with a message naming the flag, never an
// exception.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "supervisor/retry_rule.hpp"

namespace lug::supervisor {

// The supervisor's own exit codes, chosen as env(1) and timeout(1) choose theirs so that
// they read the same: 125 for a usage problem (longhorn-manager itself exits 0, 1 or 2),
// 126 when the command exists but cannot be run, 127 when it is not found.
inline constexpr int exit_usage = 125;
inline constexpr int exit_cannot_run = 126;
inline constexpr int exit_not_found = 127;

inline constexpr std::string_view program_name = "longhorn-uninstall-supervisor";

struct options {
  int attempts = default_attempts;
  std::chrono::milliseconds first_delay = default_first_delay;
  std::vector<std::string> command;  // never empty once parsed
};

struct help_requested {};

struct usage_problem {
  std::string message;
};

using parse_result = std::variant<options, help_requested, usage_problem>;

// args excludes the program name (argv[1..]).
parse_result parse_arguments(const std::vector<std::string_view>& args);

// "500ms", "2s", "0s": a whole number followed by ms or s; nullopt for anything else.
std::optional<std::chrono::milliseconds> parse_delay(std::string_view text);

// The --help text.
std::string usage_text();

}  // namespace lug::supervisor
