// The supervisor's own output: whole lines on stderr, each prefixed with the program's name
// so that a reader of `kubectl logs` tells them from longhorn-manager's, and the
// write-everything loop its output forwarding shares.
#pragma once

#include <string_view>

namespace lug::supervisor {

// "longhorn-uninstall-supervisor: <text>\n" on stderr, in one write.
void say(std::string_view text);

// Writes all of bytes to fd, riding out EINTR, partial writes and a non-blocking fd;
// false (errno set) when the fd fails, e.g. EPIPE after its reader went away.
bool write_all(int fd, std::string_view bytes);

}  // namespace lug::supervisor
