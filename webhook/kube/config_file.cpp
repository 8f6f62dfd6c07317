#include "kube/config_file.hpp"

#include "kube/config_error.hpp"
#include "support/small_file.hpp"

namespace lug::kube {
namespace {

// Config files are certificates, keys and tokens: a few KiB. A bigger file is a mistake
// (a log, a binary) and reading it whole would only produce a confusing later error.
constexpr std::uintmax_t max_config_file_bytes = 1024 * 1024;

}  // namespace

std::string read_config_file(const std::filesystem::path& file, std::string_view what) {
  auto read = read_small_file(file, max_config_file_bytes);
  if (!read) {
    const auto& error = read.error();
    if (error.too_large) {
      throw config_error(std::string(what) + " " + file.string() + " is " + std::to_string(error.size) +
                         " bytes, more than a " + std::string(what) + " can be: is it the right file?");
    }
    throw config_error("cannot read " + std::string(what) + " " + file.string() + ": " + error.reason);
  }
  return std::move(read).value();
}

void require_pem(std::string_view pem, std::string_view label_suffix, std::string_view what, std::string_view origin) {
  constexpr std::string_view begin = "-----BEGIN ";
  for (auto pos = pem.find(begin); pos != std::string_view::npos; pos = pem.find(begin, pos + 1)) {
    const auto label_start = pos + begin.size();
    const auto label_end = pem.find("-----", label_start);
    if (label_end == std::string_view::npos) break;
    const auto label = pem.substr(label_start, label_end - label_start);
    if (label.size() >= label_suffix.size() && label.substr(label.size() - label_suffix.size()) == label_suffix) {
      return;
    }
  }
  throw config_error(std::string(what) + " from " + std::string(origin) + " holds no PEM \"" +
                     std::string(label_suffix) + "\" block (-----BEGIN ..." + std::string(label_suffix) + "-----)");
}

}  // namespace lug::kube
