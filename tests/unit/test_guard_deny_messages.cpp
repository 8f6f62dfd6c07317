// The words a user reads when the guard denies a pod: what was read, what to run, and
// that the Job retries; each said once.
#include <doctest/doctest.h>

#include <chrono>
#include <string>

#include "guard/deny_messages.hpp"

namespace {

using namespace std::chrono_literals;
using lug::guard::flag_not_true_message;
using lug::guard::read_outcome;
using lug::guard::setting_read;

const lug::guard::uninstall_job job{"longhorn-system", "longhorn-uninstall"};

setting_read answered(const std::string& value) {
  setting_read read;
  read.outcome = read_outcome::ok;
  read.value = value;
  read.resource_version = "98765";
  read.http_status = 200;
  return read;
}

std::size_t occurrences(const std::string& text, const std::string& part) {
  std::size_t count = 0;
  for (auto at = text.find(part); at != std::string::npos; at = text.find(part, at + 1)) ++count;
  return count;
}

bool contains(const std::string& text, const std::string& part) { return occurrences(text, part) > 0; }

}  // namespace

TEST_SUITE("deny messages") {
  TEST_CASE("a false flag: the value, its resourceVersion and the exact command") {
    const auto message = flag_not_true_message(answered("false"), job, 3s);
    CHECK(contains(message, "held this pod for 3s"));
    CHECK(contains(message, "longhorn-system/deleting-confirmation-flag still reads "
                            R"(value "false" at resourceVersion 98765 in a fresh read)"));
    CHECK(contains(message, "run: kubectl -n longhorn-system patch -p "
                            R"('{"value": "true"}' --type=merge lhs deleting-confirmation-flag.)"));
    CHECK(contains(message, "The Job longhorn-system/longhorn-uninstall retries by itself"));
  }

  TEST_CASE("a value Longhorn does not parse is quoted and explained once") {
    const auto message = flag_not_true_message(answered("yes"), job, 3s);
    CHECK(contains(message,
                   R"(reads value "yes" at resourceVersion 98765, which longhorn-manager does not accept as true)"));
    CHECK(occurrences(message, "which") == 1);
    CHECK_FALSE(contains(message, "which Longhorn does not read as true or false"));
  }

  TEST_CASE("an oversized value is quoted as a bounded prefix, saying it was cut") {
    const std::string huge(1024 * 1024, 'v');
    const auto message = flag_not_true_message(answered(huge), job, 3s);
    CHECK(message.size() < 2048);
    CHECK(contains(message, "... (cut: the first 64 of 1048576 bytes)"));
    CHECK(contains(message, "To confirm the uninstall, run: kubectl"));
  }

  TEST_CASE("an empty value is named as such, and explained once") {
    const auto message = flag_not_true_message(answered(""), job, 3s);
    CHECK(contains(message,
                   "reads an empty value at resourceVersion 98765, which longhorn-manager does not accept as true"));
    CHECK(occurrences(message, "which") == 1);
  }

  TEST_CASE("a missing setting reads as Longhorn's default, false") {
    setting_read missing;
    missing.outcome = read_outcome::setting_missing;
    missing.http_status = 404;
    const auto message = flag_not_true_message(missing, job, 2s);
    CHECK(contains(message,
                   R"(deleting-confirmation-flag does not exist, which longhorn-manager reads as "false")"));
    CHECK(contains(message, "retries by itself"));
    // Patching it now would fail with NotFound: the message says when the command will work.
    CHECK(contains(message, "Once longhorn-manager has created the setting, confirm the uninstall with: kubectl"));
    CHECK_FALSE(contains(message, "To confirm the uninstall, run:"));
  }
}
