// A bearer token follows its file through rotations, the way the kubelet performs them.
#include <doctest/doctest.h>

#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "kube/bearer_token.hpp"
#include "test_support.hpp"

namespace {

namespace fs = std::filesystem;
using lug::test::kubelet_volume;
using lug::test::temp_dir;
using lug::test::write_file;

// A projected service-account volume holding `token`.
kubelet_volume token_volume(const fs::path& dir, const std::string& token) {
  kubelet_volume volume(dir);
  volume.publish({{"token", token}});
  return volume;
}

}  // namespace

TEST_CASE("the token is read from its file with surrounding whitespace trimmed") {
  temp_dir dir;
  write_file(dir / "token", "  abc.def.ghi\n\n");
  lug::kube::bearer_token token(dir / "token");
  const auto got = token.current();
  REQUIRE(got.has_value());
  CHECK(*got == "abc.def.ghi");
}

TEST_CASE("an unchanged file keeps giving the same token") {
  temp_dir dir;
  write_file(dir / "token", "abc");
  lug::kube::bearer_token token(dir / "token");
  CHECK(token.current().value() == "abc");
  CHECK(token.current().value() == "abc");
}

TEST_CASE("a token rewritten in place with a different length is picked up") {
  temp_dir dir;
  write_file(dir / "token", "first");
  lug::kube::bearer_token token(dir / "token");
  CHECK(token.current().value() == "first");
  write_file(dir / "token", "second-token");
  CHECK(token.current().value() == "second-token");
}

TEST_CASE("a rotation through the kubelet's ..data symlink swap is picked up even with equal size and mtime") {
  temp_dir dir;
  auto volume = token_volume(dir.path(), "token-aaaa");
  lug::kube::bearer_token token(volume.mounted("token"));
  CHECK(token.current().value() == "token-aaaa");

  const auto old_mtime = fs::last_write_time(volume.mounted("token"));
  volume.publish({{"token", "token-bbbb"}});
  // Same size, same modification time: only the inode tells the files apart.
  fs::last_write_time(volume.current_directory() / "token", old_mtime);
  CHECK(token.current().value() == "token-bbbb");

  volume.publish({{"token", "token-cccc-longer"}});
  CHECK(token.current().value() == "token-cccc-longer");
}

TEST_CASE("a token file that disappears after a good read keeps the last good token") {
  temp_dir dir;
  write_file(dir / "token", "good");
  lug::kube::bearer_token token(dir / "token");
  CHECK(token.current().value() == "good");
  fs::remove(dir / "token");
  const auto got = token.current();
  REQUIRE(got.has_value());
  CHECK(*got == "good");
}

TEST_CASE("a token file emptied after a good read keeps the last good token") {
  temp_dir dir;
  write_file(dir / "token", "good");
  lug::kube::bearer_token token(dir / "token");
  CHECK(token.current().value() == "good");
  write_file(dir / "token", "\n");
  CHECK(token.current().value() == "good");
}

TEST_CASE("a token file that never existed is an error naming the file") {
  temp_dir dir;
  lug::kube::bearer_token token(dir / "missing");
  const auto got = token.current();
  REQUIRE_FALSE(got.has_value());
  CHECK(got.error().find((dir / "missing").string()) != std::string::npos);
}

TEST_CASE("an empty token file is an error saying it is empty") {
  temp_dir dir;
  write_file(dir / "token", " \t\n");
  lug::kube::bearer_token token(dir / "token");
  const auto got = token.current();
  REQUIRE_FALSE(got.has_value());
  CHECK(got.error().find("empty") != std::string::npos);
}

TEST_CASE("concurrent readers during rotations always get a whole token") {
  temp_dir dir;
  auto volume = token_volume(dir.path(), "token-0000");
  lug::kube::bearer_token token(volume.mounted("token"));
  // Read once first: a swap removes the previous directory, as the kubelet does, so a read
  // racing it may fail, and only a token read before is then there to keep.
  REQUIRE(token.current().value() == "token-0000");
  std::atomic<bool> bad{false};
  std::vector<std::jthread> readers;
  for (int i = 0; i < 4; ++i) {
    readers.emplace_back([&] {
      for (int n = 0; n < 2000; ++n) {
        const auto got = token.current();
        if (!got || got->size() != 10 || got->rfind("token-", 0) != 0) bad = true;
      }
    });
  }
  for (int n = 1; n <= 50; ++n) {
    std::string next = std::to_string(1000 + n);
    volume.publish({{"token", "token-" + next}});
  }
  readers.clear();
  CHECK_FALSE(bad.load());
  CHECK(token.current().value() == "token-1050");
}
