#include "kube/bearer_token.hpp"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>

#include "support/log.hpp"
#include "support/small_file.hpp"

namespace lug::kube {
namespace {

// A projected service-account token is about 1 KiB; OIDC tokens with many groups reach a
// few KiB. Anything near this size is not a token, and a header this big would be refused.
constexpr std::uintmax_t max_token_bytes = 64 * 1024;

std::string trim(std::string text) {
  const auto first = text.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) return {};
  const auto last = text.find_last_not_of(" \t\r\n");
  return text.substr(first, last - first + 1);
}

}  // namespace

bearer_token::bearer_token(std::filesystem::path file) : file_(std::move(file)) {}

result<std::string, std::string> bearer_token::current() {
  const auto now = std::chrono::steady_clock::now();
  std::lock_guard lock(mutex_);

  const auto keep_or_fail = [&](std::string why) -> result<std::string, std::string> {
    if (token_.empty()) return unexpected(std::move(why));
    // Once per episode, not on every request while the file stays unreadable.
    if (!reread_failing_) {
      log::warn("bearer token file could not be re-read; keeping the previous token",
                {{"file", file_.string()}, {"error", why}});
    }
    reread_failing_ = true;
    return token_;
  };

  struct stat st {};
  if (::stat(file_.c_str(), &st) != 0) {
    return keep_or_fail("cannot read bearer token file " + file_.string() + ": " + std::strerror(errno));
  }
  const file_identity seen{st.st_dev, st.st_ino, st.st_size, static_cast<long long>(st.st_mtim.tv_sec),
                           static_cast<long long>(st.st_mtim.tv_nsec)};
  if (!token_.empty() && seen == identity_ && now - read_at_ < forced_reread_interval) return token_;

  auto read = read_small_file(file_, max_token_bytes);
  if (!read) {
    if (read.error().too_large) {
      return keep_or_fail("bearer token file " + file_.string() + " is larger than " + std::to_string(max_token_bytes) +
                          " bytes: not a token");
    }
    return keep_or_fail("cannot read bearer token file " + file_.string() + ": " + read.error().reason);
  }
  std::string token = trim(std::move(read).value());
  if (token.empty()) return keep_or_fail("bearer token file " + file_.string() + " is empty");

  if (!token_.empty() && token != token_) log::info("bearer token rotated", {{"file", file_.string()}});
  token_ = std::move(token);
  reread_failing_ = false;
  identity_ = seen;
  read_at_ = now;
  return token_;
}

}  // namespace lug::kube
