// Installing an executable file atomically: copied under a temporary name beside the
// destination, made mode 0555, then renamed over it, so that a reader of the destination
// (the uninstall container exec'ing the supervisor) sees the whole file or none of it,
// never a partial copy.
#pragma once

#include <string>

#include "support/result.hpp"

namespace lug {

// Nothing on success; otherwise a message naming the path and the system error. A failed
// install leaves no temporary file behind.
result<void, std::string> install_executable(const std::string& source, const std::string& destination);

}  // namespace lug
