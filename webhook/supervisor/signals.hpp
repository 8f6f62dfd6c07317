// The supervisor's signals. It is the container's PID 1, where the kernel drops any signal
// without a handler, so it handles SIGTERM and SIGINT itself: each is passed on to the
// running command at once, from the handler (the main loop may be blocked writing output),
// and remembered, so that the command is never started again. SIGCHLD wakes the main loop
// (through a pipe poll() watches) to reap the command and any orphan it left. SIGPIPE is
// ignored, so that a closed stdout is an error to handle, not the supervisor's death.
#pragma once

#include <signal.h>
#include <sys/types.h>

namespace lug::supervisor::signals {

// Installs the handlers; false (errno set) when the wake-up pipe or a handler cannot be set.
bool install();

// Readable after any handled signal arrived; drain_wakeups() empties it.
int wake_fd();
void drain_wakeups();

// 0 until SIGTERM or SIGINT arrived; then the last one received.
int stop_signal();

// Where SIGTERM and SIGINT are passed on; 0 while no command runs. Set only while the
// signals are blocked, so that a handler never signals a process id just reaped and reused.
void set_command_pid(pid_t pid);

// Blocks the handled signals while it lives: around fork, so that the child cannot run a
// handler meant for the supervisor, and around reaping.
class blocked {
 public:
  blocked();
  ~blocked();
  blocked(const blocked&) = delete;
  blocked& operator=(const blocked&) = delete;

  // The mask to restore, e.g. in a forked child before exec.
  const sigset_t& previous() const { return previous_; }

 private:
  sigset_t previous_;
};

// In a forked child, before exec: the command starts with default dispositions (an ignored
// SIGPIPE would otherwise survive exec) and the supervisor's original signal mask.
void reset_in_child(const sigset_t& mask);

}  // namespace lug::supervisor::signals
