// What many unit tests need around the code they test: a throw-away directory, files in
// it, and a volume that changes the way the kubelet changes mounted Secrets and tokens.
// Written once here so that each test file states only what it checks.
#pragma once

#include <filesystem>
#include <map>
#include <string>

namespace lug::test {

// A fresh directory under the system temp dir (mkdtemp, so never one another test made),
// removed with everything in it at scope exit.
class temp_dir {
 public:
  temp_dir();
  ~temp_dir();
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

  // Writes `text` to `name` (a relative path; missing parent directories are made) and
  // returns the file's path.
  std::filesystem::path write(const std::string& name, const std::string& text) const;

 private:
  std::filesystem::path path_;
};

// Replaces the file's content with `text`, byte for byte; throws when it cannot.
void write_file(const std::filesystem::path& path, const std::string& text);

// The whole content of a file, byte for byte; throws when it cannot be opened.
std::string read_file(const std::filesystem::path& path);

bool contains(const std::string& text, const std::string& part);

// A Secret, ConfigMap or projected volume as the kubelet's atomic writer keeps it: each
// file name -> ..data/name, ..data -> a hidden timestamped directory holding the files.
// publish() writes a new timestamped directory, re-points ..data at it with one rename(2),
// then removes the previous directory: a reader that opens a mounted path sees the old
// files or the new ones, never a mix, and the old inodes are gone afterwards.
class kubelet_volume {
 public:
  explicit kubelet_volume(std::filesystem::path root);

  // The names of `files` must be the same at every publish (the kubelet then only swaps
  // ..data; it would also add or remove the top-level links, which no test needs).
  void publish(const std::map<std::string, std::string>& files);

  // The path a container opens: root/name, a link through ..data.
  std::filesystem::path mounted(const std::string& name) const { return root_ / name; }
  // Where ..data points now: the current timestamped directory.
  std::filesystem::path current_directory() const;

 private:
  std::filesystem::path root_;
  int generation_ = 0;
};

}  // namespace lug::test
