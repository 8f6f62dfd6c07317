// Flag handling shared by every command: the usage-error convention (message on stderr,
// exit code 2), typed readers for flag values, and the logging flags every command takes.
#pragma once

#include <chrono>
#include <stdexcept>
#include <string>

#include <cxxopts.hpp>

namespace lug::cli {

// Exit codes of every command.
inline constexpr int exit_ok = 0;
inline constexpr int exit_failure = 1;
inline constexpr int exit_usage = 2;

// A bad flag or flag value: main prints the message and exits with exit_usage.
struct usage_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Reads a duration flag ("500ms", "25s", "1m"); throws usage_error naming the flag.
std::chrono::nanoseconds duration_flag(const cxxopts::ParseResult& parsed, const std::string& name);

// Reads a flag that must be a whole number in [min, max]; throws usage_error naming the flag.
long long integer_flag(const cxxopts::ParseResult& parsed, const std::string& name, long long min, long long max);

// --log-level and --log-format.
void add_logging_flags(cxxopts::Options& options);
void apply_logging_flags(const cxxopts::ParseResult& parsed);

// Parses argv with cxxopts, turning its exceptions into usage_error, and rejects stray
// positional arguments. Returns nullopt after printing help when --help was given.
std::optional<cxxopts::ParseResult> parse_flags(cxxopts::Options& options, int argc, char** argv);

}  // namespace lug::cli
