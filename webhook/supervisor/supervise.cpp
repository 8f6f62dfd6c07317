#include "supervisor/supervise.hpp"

#include <cerrno>
#include <chrono>
#include <cstring>
#include <string>

#include <poll.h>
#include <signal.h>

#include "supervisor/attempt.hpp"
#include "supervisor/diagnostics.hpp"
#include "supervisor/signals.hpp"

namespace lug::supervisor {
namespace {

using clock = std::chrono::steady_clock;

std::string signal_name(int signal) { return signal == SIGINT ? "SIGINT" : "SIGTERM"; }

// Sleeps `delay`, reaping orphans meanwhile; false when SIGTERM or SIGINT arrived.
bool pause_before_retry(std::chrono::milliseconds delay) {
  const auto until = clock::now() + delay;
  while (signals::stop_signal() == 0) {
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(until - clock::now());
    if (left.count() <= 0) return true;
    pollfd wake{signals::wake_fd(), POLLIN, 0};
    if (::poll(&wake, 1, static_cast<int>(left.count())) > 0) {
      signals::drain_wakeups();
      reap_orphans();
    }
  }
  return false;
}

int report_launch_failure(const launch_failure& failure, const std::string& command) {
  if (!failure.exec_failed) {
    say(std::string("cannot start the command: ") + std::strerror(failure.error));
    return exit_cannot_run;
  }
  say("cannot run " + command + ": " + std::strerror(failure.error));
  return failure.error == ENOENT ? exit_not_found : exit_cannot_run;
}

}  // namespace

int supervise(const options& options) {
  if (!signals::install()) {
    say(std::string("cannot set up signal handling: ") + std::strerror(errno));
    return exit_cannot_run;
  }
  become_subreaper();

  int status = 0;
  for (int attempt = 1;; ++attempt) {
    const auto outcome = run_attempt(options.command);
    if (const auto* failure = std::get_if<launch_failure>(&outcome)) {
      return report_launch_failure(*failure, options.command.front());
    }
    if (std::holds_alternative<not_started>(outcome)) {
      const int signal = signals::stop_signal();
      say("received " + signal_name(signal) + " before attempt " + std::to_string(attempt) + "; not starting it");
      // No attempt ran: end as a process stopped by that signal reports it.
      return attempt == 1 ? 128 + signal : status;
    }
    const auto& result = std::get<attempt_result>(outcome);
    status = exit_status(result);
    const auto decision = decide_retry(result, attempt, options.attempts, signals::stop_signal() != 0);
    if (decision != verdict::retry) {
      if (decision == verdict::attempts_exhausted && options.attempts > 1) {
        say("longhorn-manager refused the uninstall in all " + std::to_string(options.attempts) +
            " attempts: deleting-confirmation-flag may really be false; passing on its exit status " +
            std::to_string(status));
      }
      reap_orphans();
      return status;
    }
    const auto delay = delay_before_retry(options.first_delay, attempt);
    say(retry_announcement(attempt + 1, options.attempts, delay));
    if (!pause_before_retry(delay)) {
      say("received " + signal_name(signals::stop_signal()) + " while waiting to retry; not starting attempt " +
          std::to_string(attempt + 1) + ", passing on exit status " + std::to_string(status));
      return status;
    }
  }
}

}  // namespace lug::supervisor
