// Reading a small file whole: certificates, keys, tokens, cgroup files. The bound is on what
// is read, not on what stat says: /proc and /sys files report a size of 0 or of a page
// whatever they hold, and a wrong file (a log, a disk image) costs at most the bound.
// Callers phrase the error, since only they know the file's role.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

#include "support/result.hpp"

namespace lug {

// Why a small file was not read.
struct small_file_error {
  bool too_large = false;   // it holds more than the caller's bound; otherwise it could not be read
  std::uintmax_t size = 0;  // too_large: its size (what stat says, else bound + 1)
  std::string reason;       // not too_large: the system's reason ("No such file or directory")
};

// The file's whole text, or why not: it is missing, not a regular file (a directory, a FIFO,
// a device), cannot be opened or read, or holds more than max_bytes.
result<std::string, small_file_error> read_small_file(const std::filesystem::path& file, std::uintmax_t max_bytes);

}  // namespace lug
