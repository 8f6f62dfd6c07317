#include "guard/confirmation_wait.hpp"

#include <optional>
#include <string>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "support/duration.hpp"
#include "support/log.hpp"

namespace lug::guard {
namespace {

namespace net = boost::asio;
using clock = std::chrono::steady_clock;

// What a read said, for noticing changes: the outcome, and for answers the value and version.
std::string observation(const setting_read& read) {
  return std::string(to_string(read.outcome)) + "|" + std::to_string(read.http_status) + "|" + read.value + "|" +
         read.resource_version;
}

// Remembers the last fresh and cached reads and logs when what they say changes.
class progress_log {
 public:
  void saw(const setting_read& read) {
    auto& last = read.mode == read_mode::fresh ? fresh_ : cached_;
    const bool changed = !last || observation(*last) != observation(read);
    last = read;
    if (!changed) return;
    last_logged_ = clock::now();
    const std::string message = std::string(to_string(read.mode)) + " read";
    if (read.answered()) {
      log::info(message, {{"sees", describe(read)}, {"true", read.is_true()}});
    } else {
      log::warn(message + " failed; retrying", {{"outcome", to_string(read.outcome)}, {"error", describe(read)}});
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
    std::string text = "fresh read: " + (fresh_ ? describe(*fresh_) : std::string("none completed"));
    text += "; cached read: ";
    text += cached_ ? describe(*cached_) : std::string("not made (it is read only once the fresh read says true)");
    return text;
  }

 private:
  std::optional<setting_read> fresh_;
  std::optional<setting_read> cached_;
  clock::time_point last_logged_ = clock::now();
};

// Sleeps until `until`; false when the wait was cancelled.
net::awaitable<bool> sleep_until(net::steady_timer& timer, clock::time_point until) {
  timer.expires_at(until);
  auto [ec] = co_await timer.async_wait(net::as_tuple(net::use_awaitable));
  co_return !ec;
}

}  // namespace

net::awaitable<wait_result> wait_for_confirmation(read_function read, wait_options options) {
  const auto started = clock::now();
  const auto timeout = std::chrono::duration_cast<clock::duration>(options.timeout);
  const auto deadline = timeout == clock::duration::zero() ? clock::time_point::max() : started + timeout;
  const auto poll_interval = std::chrono::duration_cast<clock::duration>(options.poll_interval);
  net::steady_timer timer(co_await net::this_coro::executor);
  progress_log progress;
  const auto stopped = [&] {
    log::error("stopped before the setting was confirmed", {{"last", progress.last_seen()}});
    return wait_result::stopped;
  };
  const auto timed_out = [&] {
    log::error("timed out waiting for the setting to read true",
               {{"timeout", format_duration(options.timeout)}, {"last", progress.last_seen()}});
    return wait_result::timed_out;
  };
  // A read given only what is left of --timeout and cut off by it says nothing about the
  // setting: it ends the wait without replacing what the last real read saw.
  const auto read_until_deadline = [&](read_mode mode) -> net::awaitable<std::optional<setting_read>> {
    const auto read_deadline = std::min(clock::now() + wait_read_timeout, deadline);
    auto result = co_await read(mode, read_deadline);
    if (result.outcome == read_outcome::timeout && read_deadline == deadline) co_return std::nullopt;
    co_return result;
  };

  for (;;) {
    const auto fresh = co_await read_until_deadline(read_mode::fresh);
    if (!fresh) co_return timed_out();
    if (fresh->outcome == read_outcome::cancelled) co_return stopped();
    progress.saw(*fresh);
    if (fresh->is_true()) {
      const auto cached = co_await read_until_deadline(read_mode::cached);
      if (!cached) co_return timed_out();
      if (cached->outcome == read_outcome::cancelled) co_return stopped();
      progress.saw(*cached);
      if (cached->is_true()) break;
    }
    progress.remind_if_quiet(started);
    if (!co_await sleep_until(timer, std::min(clock::now() + poll_interval, deadline))) co_return stopped();
    // Checked after the sleep, not before the read: a read started at the deadline could
    // only time out and would hide what the last real read saw.
    if (clock::now() >= deadline) co_return timed_out();
  }

  log::info("the setting reads true fresh and cached; settling so that informer caches catch up",
            {{"settle", format_duration(options.settle)}, {"last", progress.last_seen()}});
  if (!co_await sleep_until(timer, clock::now() + std::chrono::duration_cast<clock::duration>(options.settle))) {
    co_return stopped();
  }
  log::info("settled; letting the uninstall proceed",
            {{"waited", format_duration(std::chrono::duration_cast<std::chrono::milliseconds>(clock::now() - started))}});
  co_return wait_result::confirmed;
}

}  // namespace lug::guard
