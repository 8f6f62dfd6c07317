// Durations written the way Kubernetes and Go write them: "500ms", "25s", "1m30s", "1.5s", "0".
// Units: ns, us (or µs), ms, s, m, h. Negative and unit-less non-zero values are rejected,
// because every duration flag here is a timeout or an interval.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace lug {

std::optional<std::chrono::nanoseconds> parse_duration(std::string_view text);

// The shortest exact spelling, e.g. 1500ms -> "1.5s", 90s -> "1m30s".
std::string format_duration(std::chrono::nanoseconds value);

}  // namespace lug
