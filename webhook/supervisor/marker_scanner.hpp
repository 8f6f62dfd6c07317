// Watches one output stream for fixed markers while its bytes pass through unchanged.
//
// The stream arrives in reads of any size: a marker may be split across two reads, and a
// line may be far longer than any buffer (the supervisor passes such a line on in pieces and
// never holds a whole line). So the scanner keeps only the end of the current line that
// could still begin a marker (the longest marker's length less one byte) and looks for each
// marker in that carry joined to the next read. A marker counts only within one line,
// because longhorn-manager logs each message on one line. Memory use is fixed whatever the
// line length.
#pragma once

#include <array>
#include <cstddef>
#include <string>
#include <string_view>

namespace lug::supervisor {

class marker_scanner {
 public:
  static constexpr std::size_t marker_count = 2;

  explicit marker_scanner(std::array<std::string_view, marker_count> markers);

  // Feeds the next bytes of the stream.
  void scan(std::string_view bytes);

  // Whether markers[index] has appeared so far.
  bool seen(std::size_t index) const { return seen_.at(index); }

 private:
  void scan_line_part(std::string_view part);

  std::array<std::string_view, marker_count> markers_;
  std::array<bool, marker_count> seen_{};
  std::size_t longest_ = 0;
  std::string carry_;  // the end of the current, unfinished line; shorter than longest_
};

}  // namespace lug::supervisor
