// A bearer token that follows its file.
//
// Bound service-account tokens expire and the kubelet rotates them by writing a new file
// and swapping the `..data` symlink the mounted path goes through, so the content at a
// fixed path changes while our process runs. current() stat()s the path on every call
// (following the symlink) and re-reads the file when the identity of what it points at
// (device, inode, size, modification time) changed, or when the last read is older than
// forced_reread_interval. Whitespace around the token is trimmed. When a re-read fails or
// finds the file empty, the last good token is kept, as client-go does: a half-finished
// rotation must not turn into an unauthenticated request. Thread-safe; an unchanged file
// costs one stat() and a copy.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <mutex>
#include <string>

#include "support/result.hpp"

namespace lug::kube {

class bearer_token {
 public:
  // Re-read the file at least this often even when stat() shows no change: a rewrite in
  // place within the file system's timestamp granularity keeps inode, size and mtime
  // alike. A minute is how long client-go caches file tokens.
  static constexpr std::chrono::seconds forced_reread_interval{60};

  explicit bearer_token(std::filesystem::path file);

  bearer_token(const bearer_token&) = delete;
  bearer_token& operator=(const bearer_token&) = delete;

  // The token to send (never empty), or why there is none; the message names the file.
  result<std::string, std::string> current();

  const std::filesystem::path& file() const { return file_; }

 private:
  struct file_identity {
    dev_t device = 0;
    ino_t inode = 0;
    off_t size = 0;
    long long mtime_seconds = 0;
    long long mtime_nanoseconds = 0;
    bool operator==(const file_identity&) const = default;
  };

  const std::filesystem::path file_;
  std::mutex mutex_;
  std::string token_;           // last good token, "" before the first good read
  file_identity identity_;      // what stat() said when token_ was read
  std::chrono::steady_clock::time_point read_at_;
  bool reread_failing_ = false;  // the last re-read failed and token_ is being kept
};

}  // namespace lug::kube
