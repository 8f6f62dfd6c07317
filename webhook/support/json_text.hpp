// Writing JSON text directly, for the two outputs made on every request (the
// AdmissionReview answer and the log line), where building a DOM only to print it cost
// more than the decision itself.
#pragma once

#include <string>
#include <string_view>

namespace lug {

// Appends `text` as a JSON string literal: quotes, backslashes and control characters
// escaped; bytes that are not UTF-8 replaced by U+FFFD, so the output is always valid
// JSON whatever the input carried.
void append_json_string(std::string& out, std::string_view text);

}  // namespace lug
