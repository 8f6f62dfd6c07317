// What the init container (`wait`) does: read the setting until it reads true both fresh
// (a quorum read) and cached (resourceVersion=0, what longhorn-manager's informer sees),
// then settle.
//
// Each round reads fresh; when that says true it also reads cached. When both say true in
// the same round it sleeps `settle` and reports confirmed. A failed read is logged and
// retried next round (RBAC or the network may be fixed while we wait). `timeout` gives up
// (timed_out) with a line saying what was seen last; cancelling the coroutine (the caller
// binds SIGTERM to it) stops it at once (stopped). The log records each change of what the
// reads say, not every poll, plus a reminder while nothing changes.
//
// The reads come through a function so that tests can script them.
#pragma once

#include <chrono>
#include <functional>

#include <boost/asio/awaitable.hpp>

#include "guard/init_container.hpp"
#include "guard/setting_reader.hpp"

namespace lug::guard {

// Bound on one read. A healthy API server answers a GET of one object in milliseconds; ten
// seconds rides out a leader election or a slow etcd without letting a hung connection stall
// the loop.
inline constexpr std::chrono::seconds wait_read_timeout{10};
// While nothing changes, say every so often that we are still waiting, so that someone
// reading `kubectl logs` of a pod stuck in Init knows it is alive and what it sees.
inline constexpr std::chrono::seconds still_waiting_interval{60};

struct wait_options {
  std::chrono::nanoseconds poll_interval = init_container_spec{}.poll_interval;
  std::chrono::nanoseconds settle = init_container_spec{}.settle;
  std::chrono::nanoseconds timeout{0};  // zero: wait forever
};

enum class wait_result { confirmed, timed_out, stopped };

using read_function =
    std::function<boost::asio::awaitable<setting_read>(read_mode mode, std::chrono::steady_clock::time_point deadline)>;

// A read that ends with read_outcome::cancelled stops the wait (the reader was cancelled
// with the coroutine).
boost::asio::awaitable<wait_result> wait_for_confirmation(read_function read, wait_options options);

}  // namespace lug::guard
