#include "support/install_file.hpp"

#include <cerrno>
#include <cstring>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace lug {
namespace {

// Read-only and executable for everyone: the uninstall container may run as any user, and
// nobody needs to change the copy.
constexpr mode_t installed_mode = 0555;
// Copy buffer: large enough that a binary of a few MiB takes a few dozen system calls.
constexpr std::size_t copy_chunk = 64 * 1024;

unexpected<std::string> failure(const std::string& what, const std::string& path) {
  return unexpected(what + " " + path + ": " + std::strerror(errno));
}

class file {
 public:
  explicit file(int fd) : fd_(fd) {}
  ~file() {
    if (fd_ >= 0) ::close(fd_);
  }
  file(const file&) = delete;
  file& operator=(const file&) = delete;
  int get() const { return fd_; }
  // close(2) reports write-back errors; a copy is only good once it succeeded.
  bool close() {
    const int fd = fd_;
    fd_ = -1;
    return ::close(fd) == 0;
  }

 private:
  int fd_;
};

result<void, std::string> copy_into(int from, const std::string& source, int to, const std::string& destination) {
  char buffer[copy_chunk];
  for (;;) {
    const auto got = ::read(from, buffer, sizeof buffer);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) return failure("cannot read", source);
    if (got == 0) return {};
    for (ssize_t done = 0; done < got;) {
      const auto wrote = ::write(to, buffer + done, static_cast<std::size_t>(got - done));
      if (wrote < 0 && errno == EINTR) continue;
      if (wrote < 0) return failure("cannot write", destination);
      done += wrote;
    }
  }
}

}  // namespace

result<void, std::string> install_executable(const std::string& source, const std::string& destination) {
  file from(::open(source.c_str(), O_RDONLY | O_CLOEXEC));
  if (from.get() < 0) return failure("cannot open", source);
  struct stat info {};
  if (::fstat(from.get(), &info) != 0) return failure("cannot inspect", source);
  if (!S_ISREG(info.st_mode)) return unexpected(source + " is not a regular file");

  const std::string temporary = destination + ".tmp-" + std::to_string(::getpid());
  file to(::open(temporary.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, installed_mode));
  if (to.get() < 0) return failure("cannot create", temporary);
  auto installed = copy_into(from.get(), source, to.get(), temporary);
  // The mode given to open() is narrowed by the umask; set it exactly.
  if (installed && ::fchmod(to.get(), installed_mode) != 0) installed = failure("cannot set the mode of", temporary);
  if (installed && !to.close()) installed = failure("cannot write", temporary);
  if (installed && ::rename(temporary.c_str(), destination.c_str()) != 0) {
    installed = failure("cannot rename into", destination);
  }
  if (!installed) ::unlink(temporary.c_str());
  return installed;
}

}  // namespace lug
