#include <doctest/doctest.h>

#include <filesystem>
#include <iterator>
#include <string>

#include <sys/stat.h>

#include "support/install_file.hpp"
#include "test_support.hpp"

namespace fs = std::filesystem;
using lug::install_executable;
using lug::test::read_file;
using lug::test::temp_dir;
using lug::test::write_file;

namespace {

mode_t mode_of(const fs::path& path) {
  struct stat info {};
  REQUIRE(::stat(path.c_str(), &info) == 0);
  return info.st_mode & 07777;
}

std::size_t entries(const fs::path& dir) {
  return static_cast<std::size_t>(std::distance(fs::directory_iterator(dir), fs::directory_iterator()));
}

}  // namespace

TEST_SUITE("installing the supervisor into the shared volume") {
  TEST_CASE("copies the bytes exactly, mode 0555, and leaves no temporary file") {
    temp_dir dir;
    std::string content(300000, '\0');
    for (std::size_t i = 0; i < content.size(); ++i) content[i] = static_cast<char>(i * 7 % 251);
    write_file(dir / "source", content);
    const auto destination = dir / "volume-installed";
    CHECK(install_executable((dir / "source").string(), destination.string()).has_value());
    CHECK(read_file(destination) == content);
    CHECK(mode_of(destination) == 0555);
    CHECK(entries(dir.path()) == 2);
  }
  TEST_CASE("replaces an existing file (a restarted init container installs again)") {
    temp_dir dir;
    write_file(dir / "source", "new");
    write_file(dir / "installed", "old");
    ::chmod((dir / "installed").c_str(), 0555);
    CHECK(install_executable((dir / "source").string(), (dir / "installed").string()).has_value());
    CHECK(read_file(dir / "installed") == "new");
  }
  TEST_CASE("a missing source is an error naming it") {
    temp_dir dir;
    const auto installed = install_executable((dir / "missing").string(), (dir / "installed").string());
    REQUIRE_FALSE(installed.has_value());
    CHECK(installed.error().find("cannot open " + (dir / "missing").string()) != std::string::npos);
    CHECK(installed.error().find("No such file") != std::string::npos);
    CHECK(entries(dir.path()) == 0);
  }
  TEST_CASE("a directory as the source is refused") {
    temp_dir dir;
    const auto installed = install_executable(dir.path().string(), (dir / "installed").string());
    REQUIRE_FALSE(installed.has_value());
    CHECK(installed.error().find("not a regular file") != std::string::npos);
  }
  TEST_CASE("a destination directory that does not exist is an error, and nothing is left behind") {
    temp_dir dir;
    write_file(dir / "source", "x");
    const auto installed = install_executable((dir / "source").string(), (dir / "no-dir" / "installed").string());
    REQUIRE_FALSE(installed.has_value());
    CHECK(installed.error().find("cannot create") != std::string::npos);
    CHECK(entries(dir.path()) == 1);
  }
}
