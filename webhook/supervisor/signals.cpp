#include "supervisor/signals.hpp"

#include <atomic>
#include <cerrno>

#include <fcntl.h>
#include <unistd.h>

namespace lug::supervisor::signals {
namespace {

constexpr int handled[] = {SIGTERM, SIGINT, SIGCHLD};

int wake_read = -1;
int wake_write = -1;
volatile sig_atomic_t last_stop_signal = 0;
std::atomic<pid_t> command_pid{0};
static_assert(std::atomic<pid_t>::is_always_lock_free, "read from a signal handler");

extern "C" void on_signal(int signal) {
  const int saved_errno = errno;
  if (signal == SIGTERM || signal == SIGINT) {
    last_stop_signal = signal;
    const pid_t pid = command_pid.load();
    if (pid > 0) ::kill(pid, signal);
  }
  const char byte = 0;
  // A full pipe is already readable: the wake-up is not lost.
  (void)!::write(wake_write, &byte, 1);
  errno = saved_errno;
}

sigset_t handled_set() {
  sigset_t set;
  sigemptyset(&set);
  for (const int signal : handled) sigaddset(&set, signal);
  return set;
}

}  // namespace

bool install() {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC | O_NONBLOCK) != 0) return false;
  wake_read = fds[0];
  wake_write = fds[1];
  struct sigaction action {};
  action.sa_handler = on_signal;
  // SA_RESTART keeps blocking writes of the command's output going; poll() still returns
  // EINTR, which the loops expect. SA_NOCLDSTOP: a stopped child is not an ending.
  action.sa_flags = SA_RESTART | SA_NOCLDSTOP;
  action.sa_mask = handled_set();
  for (const int signal : handled) {
    if (::sigaction(signal, &action, nullptr) != 0) return false;
  }
  struct sigaction ignore {};
  ignore.sa_handler = SIG_IGN;
  return ::sigaction(SIGPIPE, &ignore, nullptr) == 0;
}

int wake_fd() { return wake_read; }

void drain_wakeups() {
  char buffer[64];
  while (::read(wake_read, buffer, sizeof buffer) > 0) {
  }
}

int stop_signal() { return last_stop_signal; }

void set_command_pid(pid_t pid) { command_pid.store(pid); }

blocked::blocked() {
  const sigset_t set = handled_set();
  ::sigprocmask(SIG_BLOCK, &set, &previous_);
}

blocked::~blocked() { ::sigprocmask(SIG_SETMASK, &previous_, nullptr); }

void reset_in_child(const sigset_t& mask) {
  struct sigaction default_action {};
  default_action.sa_handler = SIG_DFL;
  for (const int signal : handled) ::sigaction(signal, &default_action, nullptr);
  ::sigaction(SIGPIPE, &default_action, nullptr);
  ::sigprocmask(SIG_SETMASK, &mask, nullptr);
}

}  // namespace lug::supervisor::signals
