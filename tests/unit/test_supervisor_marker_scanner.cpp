#include <doctest/doctest.h>

#include <initializer_list>
#include <string>
#include <string_view>

#include "supervisor/marker_scanner.hpp"
#include "supervisor/retry_rule.hpp"

using lug::supervisor::marker_scanner;

namespace {

const std::string refusal =
    "time=\"2026-11-27T10:00:00Z\" level=fatal msg=\"cannot uninstall Longhorn because deleting-confirmation-flag is "
    "set to `false`. Please set it to `true` using Longhorn UI or kubectl -n longhorn-system edit "
    "settings.longhorn.io deleting-confirmation-flag \"\n";
const std::string started = "time=\"2026-11-27T10:00:01Z\" level=info msg=Uninstalling...\n";

marker_scanner longhorn_scanner() {
  return marker_scanner({lug::supervisor::flag_refusal_marker, lug::supervisor::uninstall_started_marker});
}

// A scanner that was fed `reads`, one scan() each, as the pipe delivered them.
marker_scanner scanned(std::initializer_list<std::string_view> reads) {
  auto scanner = longhorn_scanner();
  for (const auto read : reads) scanner.scan(read);
  return scanner;
}

// Feeds text in pieces of `piece` bytes.
marker_scanner scanned_in_pieces(const std::string& text, std::size_t piece) {
  auto scanner = longhorn_scanner();
  for (std::size_t at = 0; at < text.size(); at += piece) scanner.scan(std::string_view(text).substr(at, piece));
  return scanner;
}

}  // namespace

TEST_SUITE("the marker scanner watches output as it passes") {
  TEST_CASE("finds the refusal inside a logrus line, and nothing else") {
    const auto scanner = scanned({refusal});
    CHECK(scanner.seen(0));
    CHECK_FALSE(scanner.seen(1));
  }
  TEST_CASE("finds both markers in one read") {
    const auto scanner = scanned({started + refusal});
    CHECK(scanner.seen(0));
    CHECK(scanner.seen(1));
  }
  TEST_CASE("sees nothing in unrelated output") {
    const auto scanner =
        scanned({"level=fatal msg=\"failed to check deleting-confirmation-flag setting: not found\"\n", "Uninstalling.."});
    CHECK_FALSE(scanner.seen(0));
    CHECK_FALSE(scanner.seen(1));
  }
  TEST_CASE("finds markers split across reads at every position, down to one byte per read") {
    const std::string text = "prefix " + refusal + started;
    constexpr std::size_t pieces[] = {1, 2, 3, 7, 16, 31, 64, 70, 71, 72, 100};
    for (const std::size_t piece : pieces) {
      CAPTURE(piece);
      const auto scanner = scanned_in_pieces(text, piece);
      CHECK(scanner.seen(0));
      CHECK(scanner.seen(1));
    }
    // Every split point of the refusal into two reads.
    for (std::size_t split = 0; split <= refusal.size(); ++split) {
      CAPTURE(split);
      CHECK(scanned({std::string_view(refusal).substr(0, split), std::string_view(refusal).substr(split)}).seen(0));
    }
  }
  TEST_CASE("finds a marker deep inside a line far longer than any buffer, read in pieces") {
    const std::string line = std::string(200000, 'x') + std::string(lug::supervisor::flag_refusal_marker) +
                             std::string(300000, 'y') + "\n";
    constexpr std::size_t pieces[] = {4096, 65536, 65537};
    for (const std::size_t piece : pieces) {
      CAPTURE(piece);
      CHECK(scanned_in_pieces(line, piece).seen(0));
    }
  }
  TEST_CASE("a marker broken by a newline does not count") {
    const auto scanner =
        scanned({"cannot uninstall Longhorn because\n deleting-confirmation-flag is set to `false`\n", "Uninstall\ning...\n"});
    CHECK_FALSE(scanner.seen(0));
    CHECK_FALSE(scanner.seen(1));
  }
  TEST_CASE("the end of one line does not join the next line's start across the newline, even split across reads") {
    CHECK_FALSE(scanned({"Uninst", "\n", "alling..."}).seen(1));
  }
  TEST_CASE("once seen, a marker stays seen") {
    CHECK(scanned({started, std::string(100000, 'z')}).seen(1));
  }
}
