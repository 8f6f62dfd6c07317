#include <doctest/doctest.h>

#include <filesystem>
#include <string>

#include "support/small_file.hpp"
#include "test_support.hpp"

namespace fs = std::filesystem;
using lug::read_small_file;
using lug::small_file_error;

namespace {

// A file the kernel makes up on reading: stat says 0 bytes whatever it holds, as for the
// cgroup files the worker-thread sizing reads.
const fs::path proc_file = "/proc/self/status";

std::string text_of(const lug::result<std::string, small_file_error>& read) {
  REQUIRE(read.has_value());
  return *read;
}

small_file_error error_of(const lug::result<std::string, small_file_error>& read) {
  REQUIRE_FALSE(read.has_value());
  return read.error();
}

}  // namespace

TEST_SUITE("reading small files") {
  TEST_CASE("reads a file whose size stat reports as 0 whole") {
    REQUIRE(fs::file_size(proc_file) == 0);
    const auto text = text_of(read_small_file(proc_file, 1024 * 1024));
    CHECK(text.find("Name:") == 0);
    CHECK(text.back() == '\n');
  }

  TEST_CASE("a file of exactly the bound is read, and one byte more is too large") {
    // A regular file: /proc files may change length between two reads.
    const lug::test::temp_dir dir;
    const auto file = dir.write("ten-bytes", "0123456789");
    CHECK(text_of(read_small_file(file, 10)) == "0123456789");
    const auto error = error_of(read_small_file(file, 9));
    CHECK(error.too_large);
    CHECK(error.size == 10);
  }

  TEST_CASE("a missing file, a directory and a device are errors with the system's reason") {
    const auto missing = error_of(read_small_file("/nonexistent/lug-small-file", 1024));
    CHECK_FALSE(missing.too_large);
    CHECK(missing.reason == "No such file or directory");
    CHECK(error_of(read_small_file(fs::temp_directory_path(), 1024)).reason == "Is a directory");
    CHECK(error_of(read_small_file("/dev/zero", 1024)).reason == "Operation not supported");
  }
}
