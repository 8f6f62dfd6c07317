#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include <sys/stat.h>

#include "support/install_file.hpp"

namespace fs = std::filesystem;
using lug::install_executable;

namespace {

// A fresh directory under the system temp dir, removed at scope exit.
struct temp_dir {
  fs::path path;
  temp_dir() {
    std::string pattern = (fs::temp_directory_path() / "lug-install.XXXXXX").string();
    REQUIRE(::mkdtemp(pattern.data()) != nullptr);
    path = pattern;
  }
  ~temp_dir() { fs::remove_all(path); }
};

void write_file(const fs::path& path, const std::string& content) { std::ofstream(path, std::ios::binary) << content; }

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

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
    write_file(dir.path / "source", content);
    const auto destination = dir.path / "volume-installed";
    CHECK_FALSE(install_executable((dir.path / "source").string(), destination.string()).has_value());
    CHECK(read_file(destination) == content);
    CHECK(mode_of(destination) == 0555);
    CHECK(entries(dir.path) == 2);
  }
  TEST_CASE("replaces an existing file (a restarted init container installs again)") {
    temp_dir dir;
    write_file(dir.path / "source", "new");
    write_file(dir.path / "installed", "old");
    ::chmod((dir.path / "installed").c_str(), 0555);
    CHECK_FALSE(install_executable((dir.path / "source").string(), (dir.path / "installed").string()).has_value());
    CHECK(read_file(dir.path / "installed") == "new");
  }
  TEST_CASE("a missing source is an error naming it") {
    temp_dir dir;
    const auto error = install_executable((dir.path / "missing").string(), (dir.path / "installed").string());
    REQUIRE(error.has_value());
    CHECK(error->find("cannot open " + (dir.path / "missing").string()) != std::string::npos);
    CHECK(error->find("No such file") != std::string::npos);
    CHECK(entries(dir.path) == 0);
  }
  TEST_CASE("a directory as the source is refused") {
    temp_dir dir;
    const auto error = install_executable(dir.path.string(), (dir.path / "installed").string());
    REQUIRE(error.has_value());
    CHECK(error->find("not a regular file") != std::string::npos);
  }
  TEST_CASE("a destination directory that does not exist is an error, and nothing is left behind") {
    temp_dir dir;
    write_file(dir.path / "source", "x");
    const auto error = install_executable((dir.path / "source").string(), (dir.path / "no-dir" / "installed").string());
    REQUIRE(error.has_value());
    CHECK(error->find("cannot create") != std::string::npos);
    CHECK(entries(dir.path) == 1);
  }
}
