// One run of the command: fork and exec it with its stdout and stderr on pipes, pass every
// byte on to the supervisor's own stdout and stderr as it arrives (watching both for the
// retry rule's markers), reap it and any orphan that became the supervisor's child, and
// report how it ended.
#pragma once

#include <string>
#include <variant>
#include <vector>

#include "supervisor/retry_rule.hpp"

namespace lug::supervisor {

// The command could not be started (exec failed with `error`, an errno value), or the
// supervisor could not set it up (pipe or fork failed).
struct launch_failure {
  int error = 0;
  bool exec_failed = false;  // false: the supervisor's own pipe or fork failed
};

// SIGTERM or SIGINT had arrived: the attempt was not started.
struct not_started {};

using attempt_outcome = std::variant<attempt_result, launch_failure, not_started>;

attempt_outcome run_attempt(const std::vector<std::string>& command);

// Reaps every child that has ended (orphans adopted while no command runs).
void reap_orphans();

// Makes the supervisor the reaper of orphans of the command even when it is not PID 1
// (PR_SET_CHILD_SUBREAPER), so it behaves the same under any parent.
void become_subreaper();

}  // namespace lug::supervisor
