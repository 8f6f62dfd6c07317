// How long and how the validating webhook holds a pod: the knobs (--poll-interval,
// --max-hold, --max-held, --on-read-error) and the deadline arithmetic.
//
// The hold must end early enough for the answer to reach the API server before its own
// timeout for the webhook call (passed to us as ?timeout=); otherwise the API server
// gives up on us and applies the failure policy, and the user sees "context deadline
// exceeded" instead of our message.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>

namespace lug::guard {

enum class on_read_error { deny, allow };

struct hold_policy {
  std::chrono::nanoseconds poll_interval = std::chrono::milliseconds{500};
  std::chrono::nanoseconds max_hold = std::chrono::seconds{25};
  // Concurrent holds. Each costs one coroutine and one connection (a few KiB); the
  // uninstall Job makes one pod at a time, so hundreds mean something is wrong, and
  // denying beyond this bound keeps memory and descriptors bounded.
  std::size_t max_held = 256;
  on_read_error read_errors = on_read_error::deny;
};

// kube-apiserver always passes ?timeout=; when it is missing (a hand-made request)
// assume 10 s, the default timeoutSeconds of a webhook configuration.
inline constexpr std::chrono::nanoseconds default_api_timeout = std::chrono::seconds{10};

// Time kept back from the API server's timeout for our answer to travel: a quarter of
// the timeout, at most 1 s. Encoding and sending take microseconds; the rest absorbs a
// loaded node's scheduling delays and the API server's own bookkeeping.
inline constexpr std::chrono::nanoseconds max_answer_margin = std::chrono::seconds{1};

// A fresh read is given at most this long before it counts as a timeout, even when the
// hold could last longer: a read that slow means the API server is struggling, and a
// new read (the next poll) is the better bet.
inline constexpr std::chrono::nanoseconds max_read_time = std::chrono::seconds{5};

// When a hold that started at `received` must be answered.
std::chrono::steady_clock::time_point hold_deadline(std::chrono::steady_clock::time_point received,
                                                    std::optional<std::chrono::nanoseconds> api_timeout,
                                                    std::chrono::nanoseconds max_hold);

}  // namespace lug::guard
