// `wait`: the init container the guard adds to the Longhorn uninstall pod. The waiting
// itself is guard::wait_for_confirmation; this file turns flags into it, installs the
// supervisor first when asked, and binds SIGTERM/SIGINT to stopping it.
//
// With --install-supervisor DEST it first copies the supervisor (--supervisor-source, the
// image's copy by default) to DEST, atomically and mode 0555, for the uninstall container to
// run (guard/uninstall_wrapper.hpp); a failed copy exits 1 at once, since the uninstall
// container's rewritten command could not run.
#include "cli/wait_command.hpp"

#include <csignal>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/signal_set.hpp>

#include "cli/app.hpp"
#include "cli/flags.hpp"
#include "cli/setting_client.hpp"
#include "guard/uninstall_wrapper.hpp"
#include "guard/wait_flags.hpp"
#include "support/duration.hpp"
#include "support/install_file.hpp"
#include "support/log.hpp"

namespace lug::cli {
namespace {

namespace net = boost::asio;
namespace flag = guard::wait_flags;

// False when the copy failed (logged).
bool install_supervisor(const wait_invocation& invocation) {
  const auto& destination = *invocation.install_supervisor;
  if (const auto installed = install_executable(invocation.supervisor_source, destination); !installed) {
    log::error("cannot install the supervisor", {{"error", installed.error()}});
    return false;
  }
  log::info("installed the supervisor", {{"from", invocation.supervisor_source}, {"to", destination}});
  return true;
}

}  // namespace

cxxopts::Options wait_flag_parser(const char* program) {
  const guard::wait_options defaults;
  cxxopts::Options options(program,
                           "Wait until the setting reads true both fresh (quorum read) and cached (resourceVersion=0), "
                           "then settle and exit 0. Exit 1 on --timeout or SIGTERM.");
  options.add_options("Wait")
      (flag::poll_interval, "time between reads",
       cxxopts::value<std::string>()->default_value(format_duration(defaults.poll_interval)))
      (flag::settle, "sleep after both reads say true (0: none; see --init-settle of serve)",
       cxxopts::value<std::string>()->default_value(format_duration(defaults.settle)))
      (flag::timeout, "give up after this long (0: never)",
       cxxopts::value<std::string>()->default_value(format_duration(defaults.timeout)))
      (flag::install_supervisor, "first copy the supervisor to this path (atomically, mode 0555)",
       cxxopts::value<std::string>())
      (flag::supervisor_source, "the supervisor binary that --install-supervisor copies",
       cxxopts::value<std::string>()->default_value(guard::supervisor_image_path));
  add_setting_client_flags(options);
  return options;
}

wait_invocation wait_invocation_from_flags(const cxxopts::ParseResult& parsed) {
  wait_invocation invocation;
  invocation.wait = {duration_flag(parsed, flag::poll_interval), duration_flag(parsed, flag::settle),
                     duration_flag(parsed, flag::timeout)};
  if (invocation.wait.poll_interval <= std::chrono::nanoseconds::zero()) {
    throw usage_error("--poll-interval must be more than 0");
  }
  if (parsed.count(flag::install_supervisor) != 0) {
    invocation.install_supervisor = parsed[flag::install_supervisor].as<std::string>();
    if (invocation.install_supervisor->empty()) throw usage_error("--install-supervisor must not be empty");
  }
  invocation.supervisor_source = parsed[flag::supervisor_source].as<std::string>();
  return invocation;
}

int wait_command(int argc, char** argv) {
  auto options = wait_flag_parser(argv[0]);
  const auto parsed = parse_flags(options, argc, argv);
  if (!parsed) return exit_ok;
  const auto invocation = wait_invocation_from_flags(*parsed);
  std::optional<setting_client> reading;
  try {
    reading.emplace(*parsed);
  } catch (const kube::config_error& e) {
    log::error("cannot set up the Kubernetes API client", {{"error", e.what()}});
    return exit_failure;
  }
  if (invocation.install_supervisor && !install_supervisor(invocation)) return exit_failure;

  const auto& wait = invocation.wait;
  log::info("waiting for the setting to read true",
            {{"setting", guard::qualified_name(reading->setting())},
             {"apiVersion", "longhorn.io/" + reading->setting().api_version},
             {"server", reading->config().server_url()},
             {"via", reading->config().source},
             {"pollInterval", format_duration(wait.poll_interval)},
             {"timeout", wait.timeout == std::chrono::nanoseconds::zero() ? "none" : format_duration(wait.timeout)}});

  // SIGTERM (what the kubelet sends) and SIGINT cancel the waiting coroutine: the read or
  // sleep in progress ends at once and the coroutine reports what it saw last.
  auto& io = reading->io();
  net::cancellation_signal stop;
  net::signal_set signals(io, SIGTERM, SIGINT);
  signals.async_wait([&](const boost::system::error_code& ec, int signal) {
    if (ec) return;
    log::warn("stopping", {{"signal", signal == SIGTERM ? "SIGTERM" : "SIGINT"}});
    stop.emit(net::cancellation_type::terminal);
  });

  auto& reader = reading->reader();
  const guard::read_function read = [&reader](guard::read_mode mode, std::chrono::steady_clock::time_point deadline) {
    return reader.read(mode, deadline);
  };
  int exit_code = exit_failure;
  net::co_spawn(io, guard::wait_for_confirmation(read, wait),
                net::bind_cancellation_slot(stop.slot(), [&](std::exception_ptr error, guard::wait_result result) {
                  signals.cancel();
                  if (error) std::rethrow_exception(error);
                  exit_code = result == guard::wait_result::confirmed ? exit_ok : exit_failure;
                }));
  io.run();
  return exit_code;
}

}  // namespace lug::cli
