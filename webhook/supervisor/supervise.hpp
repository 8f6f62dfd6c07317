// The supervisor's loop: run the command, and run it again while the retry rule says so,
// pausing between attempts; returns the supervisor's exit status.
#pragma once

#include "supervisor/arguments.hpp"

namespace lug::supervisor {

int supervise(const options& options);

}  // namespace lug::supervisor
