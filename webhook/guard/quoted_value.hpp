// Quoting what a Setting holds in messages and log lines. Its value is written by anyone
// allowed to patch it and may be as large as the API server lets an object be
// (megabytes), while every message that quotes it goes back to the API server, into the
// Job's events and to kubectl, and every log line to the node's disk: both quote a
// bounded prefix and say the value was cut.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace lug::guard {

// The longest prefix of a value quoted. Longhorn accepts at most five bytes here
// ("false"); 64 shows enough of anything else to recognise what was written by mistake
// (a pasted command, a YAML fragment) and keeps a denial message short enough for an
// Event (events.k8s.io allows a note of 1 KiB).
inline constexpr std::size_t max_quoted_value_bytes = 64;

// `value` as a JSON string, or at most max_quoted_value_bytes of it (never splitting a
// UTF-8 character) followed by `... (cut: the first 64 of 1048576 bytes)`.
std::string quote_value(std::string_view value);

// The same prefix unquoted, for a log field (the log escapes it itself).
std::string cut_value(std::string_view value);

}  // namespace lug::guard
