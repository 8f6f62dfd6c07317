// The command line of `wait`, the init container's program. The mutating webhook writes it
// (guard/init_container.cpp) and the cli parses it (cli/wait_command.cpp,
// cli/setting_flags.cpp): the names live here, once, and a unit test parses what the
// webhook writes (test_wait_command_line.cpp).
#pragma once

namespace lug::guard::wait_flags {

inline constexpr const char* command = "wait";
inline constexpr const char* setting_namespace = "namespace";
inline constexpr const char* setting_name = "setting";
inline constexpr const char* setting_api_version = "setting-api-version";
inline constexpr const char* poll_interval = "poll-interval";
inline constexpr const char* settle = "settle";
inline constexpr const char* timeout = "timeout";
inline constexpr const char* install_supervisor = "install-supervisor";
inline constexpr const char* supervisor_source = "supervisor-source";

}  // namespace lug::guard::wait_flags
