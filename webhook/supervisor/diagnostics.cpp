#include "supervisor/diagnostics.hpp"

#include <cerrno>
#include <string>

#include <poll.h>
#include <unistd.h>

#include "supervisor/arguments.hpp"

namespace lug::supervisor {

bool write_all(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    const auto written = ::write(fd, bytes.data(), bytes.size());
    if (written >= 0) {
      bytes.remove_prefix(static_cast<std::size_t>(written));
      continue;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      // Someone made our stdout non-blocking: wait until it takes more.
      pollfd writable{fd, POLLOUT, 0};
      if (::poll(&writable, 1, -1) < 0 && errno != EINTR) return false;
      continue;
    }
    return false;
  }
  return true;
}

void say(std::string_view text) {
  std::string line(program_name);
  line += ": ";
  line += text;
  line += '\n';
  // Nowhere left to report a failure to write to stderr.
  (void)write_all(STDERR_FILENO, line);
}

}  // namespace lug::supervisor
