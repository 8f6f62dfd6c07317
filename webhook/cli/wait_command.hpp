// `wait`'s command line, apart from running it, so that a test can parse exactly what the
// mutating webhook writes into the init container (guard/init_container.cpp).
#pragma once

#include <optional>
#include <string>

#include <cxxopts.hpp>

#include "guard/confirmation_wait.hpp"

namespace lug::cli {

// Every flag of `wait`, including the setting, kube and logging flags.
cxxopts::Options wait_flag_parser(const char* program);

struct wait_invocation {
  guard::wait_options wait;
  std::optional<std::string> install_supervisor;  // --install-supervisor DEST
  std::string supervisor_source;
};

// Throws usage_error naming a bad flag. (The Setting and cluster flags are read by
// setting_client.)
wait_invocation wait_invocation_from_flags(const cxxopts::ParseResult& parsed);

}  // namespace lug::cli
