// A bearer token follows its file through rotations, the way the kubelet performs them.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "kube/bearer_token.hpp"

namespace {

namespace fs = std::filesystem;

struct temp_dir {
  fs::path path;
  temp_dir() {
    std::random_device random;
    path = fs::temp_directory_path() / ("lug-bearer-token-" + std::to_string(random()) + std::to_string(random()));
    fs::create_directories(path);
  }
  ~temp_dir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

void write(const fs::path& file, const std::string& text) { std::ofstream(file, std::ios::binary | std::ios::trunc) << text; }

// The layout of a projected service-account volume: token -> ..data/token, and
// ..data -> ..<timestamp>, the directory holding the current files. A rotation writes a new
// timestamped directory and renames a new ..data symlink over the old one (atomic).
struct kubelet_volume {
  fs::path dir;
  int generation = 0;

  explicit kubelet_volume(fs::path d, const std::string& token) : dir(std::move(d)) {
    publish(token);
    fs::create_symlink("..data/token", dir / "token");
  }

  void publish(const std::string& token) {
    const fs::path version = dir / ("..2026_11_25_10_00_0" + std::to_string(generation++));
    fs::create_directories(version);
    write(version / "token", token);
    fs::create_directory_symlink(version.filename(), dir / "..data_tmp");
    fs::rename(dir / "..data_tmp", dir / "..data");
  }

  fs::path token_path() const { return dir / "token"; }
};

}  // namespace

TEST_CASE("the token is read from its file with surrounding whitespace trimmed") {
  temp_dir dir;
  write(dir.path / "token", "  abc.def.ghi\n\n");
  lug::kube::bearer_token token(dir.path / "token");
  const auto got = token.current();
  CHECK(got.error.empty());
  CHECK(got.token == "abc.def.ghi");
}

TEST_CASE("an unchanged file keeps giving the same token") {
  temp_dir dir;
  write(dir.path / "token", "abc");
  lug::kube::bearer_token token(dir.path / "token");
  CHECK(token.current().token == "abc");
  CHECK(token.current().token == "abc");
}

TEST_CASE("a token rewritten in place with a different length is picked up") {
  temp_dir dir;
  write(dir.path / "token", "first");
  lug::kube::bearer_token token(dir.path / "token");
  CHECK(token.current().token == "first");
  write(dir.path / "token", "second-token");
  CHECK(token.current().token == "second-token");
}

TEST_CASE("a rotation through the kubelet's ..data symlink swap is picked up even with equal size and mtime") {
  temp_dir dir;
  kubelet_volume volume(dir.path, "token-aaaa");
  lug::kube::bearer_token token(volume.token_path());
  CHECK(token.current().token == "token-aaaa");

  const auto old_mtime = fs::last_write_time(volume.token_path());
  volume.publish("token-bbbb");
  // Same size, same modification time: only the inode tells the files apart.
  fs::last_write_time(dir.path / "..data" / "token", old_mtime);
  CHECK(token.current().token == "token-bbbb");

  volume.publish("token-cccc-longer");
  CHECK(token.current().token == "token-cccc-longer");
}

TEST_CASE("a token file that disappears after a good read keeps the last good token") {
  temp_dir dir;
  write(dir.path / "token", "good");
  lug::kube::bearer_token token(dir.path / "token");
  CHECK(token.current().token == "good");
  fs::remove(dir.path / "token");
  const auto got = token.current();
  CHECK(got.error.empty());
  CHECK(got.token == "good");
}

TEST_CASE("a token file emptied after a good read keeps the last good token") {
  temp_dir dir;
  write(dir.path / "token", "good");
  lug::kube::bearer_token token(dir.path / "token");
  CHECK(token.current().token == "good");
  write(dir.path / "token", "\n");
  CHECK(token.current().token == "good");
}

TEST_CASE("a token file that never existed is an error naming the file") {
  temp_dir dir;
  lug::kube::bearer_token token(dir.path / "missing");
  const auto got = token.current();
  CHECK(got.token.empty());
  CHECK(got.error.find((dir.path / "missing").string()) != std::string::npos);
}

TEST_CASE("an empty token file is an error saying it is empty") {
  temp_dir dir;
  write(dir.path / "token", " \t\n");
  lug::kube::bearer_token token(dir.path / "token");
  const auto got = token.current();
  CHECK(got.token.empty());
  CHECK(got.error.find("empty") != std::string::npos);
}

TEST_CASE("concurrent readers during rotations always get a whole token") {
  temp_dir dir;
  kubelet_volume volume(dir.path, "token-0000");
  lug::kube::bearer_token token(volume.token_path());
  std::atomic<bool> bad{false};
  std::vector<std::jthread> readers;
  for (int i = 0; i < 4; ++i) {
    readers.emplace_back([&] {
      for (int n = 0; n < 2000; ++n) {
        const auto got = token.current();
        if (got.token.size() != 10 || got.token.rfind("token-", 0) != 0) bad = true;
      }
    });
  }
  for (int n = 1; n <= 50; ++n) {
    std::string next = std::to_string(1000 + n);
    volume.publish("token-" + next);
  }
  readers.clear();
  CHECK_FALSE(bad.load());
  CHECK(token.current().token == "token-1050");
}
