// `wait`: the init container the guard adds to the Longhorn uninstall pod.
//
// Each round reads the setting fresh (a quorum read); when that says true it also reads it
// cached (resourceVersion=0, the API server's watch cache, which is what longhorn-manager's
// informer sees). When both say true in the same round it sleeps --settle, the delay the
// Longhorn team found enough for informer caches everywhere to catch up, and exits 0. A
// failed read is logged and retried next round (RBAC or the network may be fixed while we
// wait). --timeout gives up with exit 1 and a message saying what was seen last; SIGTERM or
// SIGINT stop at once, also with exit 1. The log records each change of what the reads
// say, not every poll, plus a reminder while nothing changes.
//
// With --install-supervisor DEST it first copies the supervisor (--supervisor-source, the
// image's copy by default) to DEST, atomically and mode 0555, for the uninstall container to
// run (guard/uninstall_wrapper.hpp); a failed copy exits 1 at once, since the uninstall
// container's rewritten command could not run.
#include <csignal>
#include <optional>
#include <string>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "cli/app.hpp"
#include "cli/flags.hpp"
#include "cli/kube_flags.hpp"
#include "cli/setting_flags.hpp"
#include "guard/setting_reader.hpp"
#include "guard/uninstall_wrapper.hpp"
#include "kube/api_client.hpp"
#include "support/duration.hpp"
#include "support/install_file.hpp"
#include "support/log.hpp"

namespace lug::cli {
namespace {

namespace net = boost::asio;
using clock = std::chrono::steady_clock;

// Bound on one read. A healthy API server answers a GET of one object in milliseconds; ten
// seconds rides out a leader election or a slow etcd without letting a hung connection stall
// the loop. Also check's default --timeout.
constexpr std::chrono::seconds read_timeout{10};
// While nothing changes, say every so often that we are still waiting, so that someone
// reading `kubectl logs` of a pod stuck in Init knows it is alive and what it sees.
constexpr std::chrono::seconds still_waiting_interval{60};

struct wait_options {
  clock::duration poll_interval;
  clock::duration settle;
  clock::duration timeout;  // zero: wait forever
};

// What a read said, for noticing changes: the outcome, and for answers the value and version.
std::string observation(const guard::setting_read& read) {
  return std::string(guard::to_string(read.outcome)) + "|" + std::to_string(read.http_status) + "|" + read.value +
         "|" + read.resource_version;
}

// Remembers the last fresh and cached reads and logs when what they say changes.
class progress_log {
 public:
  void saw(const guard::setting_read& read) {
    auto& last = read.mode == guard::read_mode::fresh ? fresh_ : cached_;
    const bool changed = !last || observation(*last) != observation(read);
    last = read;
    if (!changed) return;
    last_logged_ = clock::now();
    const std::string message = std::string(guard::to_string(read.mode)) + " read";
    if (read.answered()) {
      log::info(message, {{"sees", guard::describe(read)}, {"true", read.is_true()}});
    } else {
      log::warn(message + " failed; retrying", {{"outcome", guard::to_string(read.outcome)},
                                                {"error", guard::describe(read)}});
    }
  }

  void remind_if_quiet(clock::time_point started) {
    const auto now = clock::now();
    if (now - last_logged_ < still_waiting_interval) return;
    last_logged_ = now;
    log::info("still waiting for the setting to read true",
              {{"waited", format_duration(std::chrono::duration_cast<std::chrono::seconds>(now - started))},
               {"last", last_seen()}});
  }

  // "fresh read: value "false" at resourceVersion 12; cached read: not made (...)".
  std::string last_seen() const {
    std::string text = "fresh read: " + (fresh_ ? guard::describe(*fresh_) : std::string("none completed"));
    text += "; cached read: ";
    if (cached_) {
      text += guard::describe(*cached_);
    } else {
      text += "not made (it is read only once the fresh read says true)";
    }
    return text;
  }

 private:
  std::optional<guard::setting_read> fresh_;
  std::optional<guard::setting_read> cached_;
  clock::time_point last_logged_ = clock::now();
};

// Sleeps until `until`; false when the wait was cancelled (SIGTERM/SIGINT).
net::awaitable<bool> sleep_until(net::steady_timer& timer, clock::time_point until) {
  timer.expires_at(until);
  auto [ec] = co_await timer.async_wait(net::as_tuple(net::use_awaitable));
  co_return !ec;
}

net::awaitable<int> wait_for_confirmation(guard::setting_reader& reader, wait_options options) {
  const auto started = clock::now();
  const auto deadline = options.timeout == clock::duration::zero() ? clock::time_point::max() : started + options.timeout;
  net::steady_timer timer(co_await net::this_coro::executor);
  progress_log progress;
  const auto stopped = [&] {
    log::error("stopped before the setting was confirmed", {{"last", progress.last_seen()}});
    return exit_failure;
  };

  for (;;) {
    const auto fresh = co_await reader.read(guard::read_mode::fresh, std::min(clock::now() + read_timeout, deadline));
    if (fresh.outcome == guard::read_outcome::cancelled) co_return stopped();
    progress.saw(fresh);
    if (fresh.is_true()) {
      const auto cached =
          co_await reader.read(guard::read_mode::cached, std::min(clock::now() + read_timeout, deadline));
      if (cached.outcome == guard::read_outcome::cancelled) co_return stopped();
      progress.saw(cached);
      if (cached.is_true()) break;
    }
    progress.remind_if_quiet(started);
    if (!co_await sleep_until(timer, std::min(clock::now() + options.poll_interval, deadline))) co_return stopped();
    // Checked after the sleep, not before the read: a read started at the deadline could
    // only time out and would hide what the last real read saw.
    if (clock::now() >= deadline) {
      log::error("timed out waiting for the setting to read true",
                 {{"timeout", format_duration(options.timeout)}, {"last", progress.last_seen()}});
      co_return exit_failure;
    }
  }

  log::info("the setting reads true fresh and cached; settling so that informer caches catch up",
            {{"settle", format_duration(options.settle)}, {"last", progress.last_seen()}});
  if (!co_await sleep_until(timer, clock::now() + options.settle)) co_return stopped();
  log::info("settled; letting the uninstall proceed",
            {{"waited", format_duration(std::chrono::duration_cast<std::chrono::milliseconds>(clock::now() - started))}});
  co_return exit_ok;
}

}  // namespace

int wait_command(int argc, char** argv) {
  cxxopts::Options options(argv[0],
                           "Wait until the setting reads true both fresh (quorum read) and cached (resourceVersion=0), "
                           "then settle and exit 0. Exit 1 on --timeout or SIGTERM.");
  options.add_options("Wait")
      ("poll-interval", "time between reads", cxxopts::value<std::string>()->default_value("1s"))
      ("settle", "sleep after both reads say true (0: none; see --init-settle of serve)",
       cxxopts::value<std::string>()->default_value("0s"))
      ("timeout", "give up after this long (0: never)", cxxopts::value<std::string>()->default_value("0"))
      ("install-supervisor", "first copy the supervisor to this path (atomically, mode 0555)",
       cxxopts::value<std::string>())
      ("supervisor-source", "the supervisor binary that --install-supervisor copies",
       cxxopts::value<std::string>()->default_value(guard::supervisor_image_path));
  add_setting_flags(options);
  add_kube_flags(options);
  add_logging_flags(options);
  const auto parsed = parse_flags(options, argc, argv);
  if (!parsed) return exit_ok;

  const wait_options wait{duration_flag(*parsed, "poll-interval"), duration_flag(*parsed, "settle"),
                          duration_flag(*parsed, "timeout")};
  if (wait.poll_interval <= clock::duration::zero()) throw usage_error("--poll-interval must be more than 0");
  const auto setting = setting_ref_from_flags(*parsed);
  apply_logging_flags(*parsed);

  if (parsed->count("install-supervisor") != 0) {
    const auto source = (*parsed)["supervisor-source"].as<std::string>();
    const auto destination = (*parsed)["install-supervisor"].as<std::string>();
    if (destination.empty()) throw usage_error("--install-supervisor must not be empty");
    if (const auto error = install_executable(source, destination)) {
      log::error("cannot install the supervisor", {{"error", *error}});
      return exit_failure;
    }
    log::info("installed the supervisor", {{"from", source}, {"to", destination}});
  }

  net::io_context io;
  std::optional<kube::api_client> client;
  try {
    client.emplace(io.get_executor(), load_cluster_config(*parsed));
  } catch (const kube::config_error& e) {
    log::error("cannot set up the Kubernetes API client", {{"error", e.what()}});
    return exit_failure;
  }
  guard::setting_reader reader(*client, setting);
  log::info("waiting for the setting to read true",
            {{"setting", setting.namespace_name + "/" + setting.name},
             {"apiVersion", "longhorn.io/" + setting.api_version},
             {"server", client->config().server_url()},
             {"via", client->config().source},
             {"pollInterval", format_duration(wait.poll_interval)},
             {"timeout", wait.timeout == clock::duration::zero() ? "none" : format_duration(wait.timeout)}});

  // SIGTERM (what the kubelet sends) and SIGINT cancel the waiting coroutine: the read or
  // sleep in progress ends at once and the coroutine reports what it saw last.
  net::cancellation_signal stop;
  net::signal_set signals(io, SIGTERM, SIGINT);
  signals.async_wait([&](const boost::system::error_code& ec, int signal) {
    if (ec) return;
    log::warn("stopping", {{"signal", signal == SIGTERM ? "SIGTERM" : "SIGINT"}});
    stop.emit(net::cancellation_type::terminal);
  });

  int exit_code = exit_failure;
  net::co_spawn(io, wait_for_confirmation(reader, wait),
                net::bind_cancellation_slot(stop.slot(), [&](std::exception_ptr error, int code) {
                  signals.cancel();
                  if (error) std::rethrow_exception(error);
                  exit_code = code;
                }));
  io.run();
  return exit_code;
}

}  // namespace lug::cli
