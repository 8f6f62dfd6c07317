#include "test_support.hpp"

#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <system_error>

namespace lug::test {

namespace fs = std::filesystem;

temp_dir::temp_dir() {
  std::string pattern = (fs::temp_directory_path() / "lug-unit.XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) {
    throw std::system_error(errno, std::generic_category(), "mkdtemp " + pattern);
  }
  path_ = pattern;
}

temp_dir::~temp_dir() {
  std::error_code ignored;
  fs::remove_all(path_, ignored);
}

fs::path temp_dir::write(const std::string& name, const std::string& text) const {
  const fs::path file = path_ / name;
  fs::create_directories(file.parent_path());
  write_file(file, text);
  return file;
}

void write_file(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  if (!out) throw std::runtime_error("test support: cannot write " + path.string());
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("test support: cannot open " + path.string());
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

kubelet_volume::kubelet_volume(fs::path root) : root_(std::move(root)) { fs::create_directories(root_); }

namespace {

// The kubelet names each version by its time; a counter keeps the names distinct here.
std::string version_name(int generation) { return "..2026_01_01_00_00_00." + std::to_string(generation); }

}  // namespace

void kubelet_volume::publish(const std::map<std::string, std::string>& files) {
  const fs::path next = root_ / version_name(++generation_);
  fs::create_directory(next);
  for (const auto& [name, text] : files) write_file(next / name, text);
  fs::create_directory_symlink(next.filename(), root_ / "..data_tmp");
  fs::rename(root_ / "..data_tmp", root_ / "..data");  // rename(2): atomic
  if (generation_ == 1) {
    for (const auto& [name, text] : files) fs::create_symlink(fs::path("..data") / name, root_ / name);
  } else {
    fs::remove_all(root_ / version_name(generation_ - 1));
  }
}

fs::path kubelet_volume::current_directory() const { return root_ / version_name(generation_); }

}  // namespace lug::test
