// Placeholders until the wait and check commands land.
#include <iostream>

#include "cli/app.hpp"
#include "cli/flags.hpp"

namespace lug::cli {
int wait_command(int, char**) { throw usage_error("wait is not implemented yet"); }
int check_command(int, char**) { throw usage_error("check is not implemented yet"); }
}  // namespace lug::cli
