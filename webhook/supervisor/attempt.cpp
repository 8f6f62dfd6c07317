#include "supervisor/attempt.hpp"

#include <array>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <optional>

#include <fcntl.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "supervisor/diagnostics.hpp"
#include "supervisor/marker_scanner.hpp"
#include "supervisor/signals.hpp"

namespace lug::supervisor {
namespace {

using clock = std::chrono::steady_clock;

// One read takes at most a Linux pipe's default capacity, so a full pipe empties in one
// read; a longer line simply passes on in several pieces.
constexpr std::size_t read_buffer_size = 64 * 1024;
// After the command exited, how long to keep reading output from an orphan it left holding
// the pipes. Output the command wrote itself is already in the pipes and is read at once;
// this only bounds the wait for a descendant that never closes them.
constexpr std::chrono::milliseconds drain_grace{1000};

class fd_guard {
 public:
  explicit fd_guard(int fd = -1) : fd_(fd) {}
  ~fd_guard() { reset(); }
  fd_guard(const fd_guard&) = delete;
  fd_guard& operator=(const fd_guard&) = delete;
  int get() const { return fd_; }
  void reset(int fd = -1) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_;
};

bool make_pipe(fd_guard& read_end, fd_guard& write_end) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return false;
  read_end.reset(fds[0]);
  write_end.reset(fds[1]);
  return true;
}

// One of the command's output streams on its way to ours.
struct stream {
  fd_guard from;
  int to;
  const char* name;
  marker_scanner scanner{{flag_refusal_marker, uninstall_started_marker}};
  bool output_failed = false;
};

// Reads what is there and passes it on; false at end of stream.
bool pump(stream& s, char* buffer) {
  const auto got = ::read(s.from.get(), buffer, read_buffer_size);
  if (got < 0) return errno == EINTR || errno == EAGAIN;
  if (got == 0) return false;
  const std::string_view bytes(buffer, static_cast<std::size_t>(got));
  s.scanner.scan(bytes);
  // Once our side fails, the command's output is still read (and scanned), so that the
  // command never blocks on a full pipe, but dropped.
  if (!s.output_failed && !write_all(s.to, bytes)) {
    s.output_failed = true;
    say(std::string("cannot pass on the command's ") + s.name + ": " + std::strerror(errno) +
        "; dropping the rest of it");
  }
  return true;
}

// Reaps every ended child; records the command's wait status when it is among them.
void reap(pid_t command, std::optional<int>& command_status) {
  // A stop signal must not be passed on to a process id that waitpid has just freed.
  const signals::blocked block;
  for (;;) {
    int status = 0;
    const pid_t pid = ::waitpid(-1, &status, WNOHANG);
    if (pid < 0 && errno == EINTR) continue;
    if (pid <= 0) return;
    if (pid == command) {
      command_status = status;
      signals::set_command_pid(0);
    }
  }
}

// Blocks until the command ends and reaps it. waitid(WNOWAIT) waits without reaping, so
// that the process id is freed only under reap()'s blocked signals.
std::optional<int> wait_for(pid_t command) {
  siginfo_t info{};
  while (::waitid(P_PID, static_cast<id_t>(command), &info, WEXITED | WNOWAIT) != 0) {
    if (errno != EINTR) return std::nullopt;
  }
  std::optional<int> status;
  reap(command, status);
  return status;
}

[[noreturn]] void exec_in_child(const std::vector<char*>& argv, int out, int err, int report,
                                const sigset_t& mask) {
  signals::reset_in_child(mask);
  if (::dup2(out, STDOUT_FILENO) >= 0 && ::dup2(err, STDERR_FILENO) >= 0) ::execvp(argv[0], argv.data());
  const int error = errno;
  (void)!::write(report, &error, sizeof error);
  ::_exit(error == ENOENT ? 127 : 126);
}

// Waits for the exec report: EOF when exec succeeded (the pipe is close-on-exec), the
// child's errno when it failed.
std::optional<int> exec_error(int report) {
  int error = 0;
  for (;;) {
    const auto got = ::read(report, &error, sizeof error);
    if (got < 0 && errno == EINTR) continue;
    if (got == static_cast<ssize_t>(sizeof error)) return error;
    return std::nullopt;
  }
}

}  // namespace

void become_subreaper() { (void)::prctl(PR_SET_CHILD_SUBREAPER, 1L, 0L, 0L, 0L); }

void reap_orphans() {
  std::optional<int> ignored;
  reap(0, ignored);
}

attempt_outcome run_attempt(const std::vector<std::string>& command) {
  std::vector<char*> argv;
  argv.reserve(command.size() + 1);
  for (const auto& arg : command) argv.push_back(const_cast<char*>(arg.c_str()));
  argv.push_back(nullptr);

  std::array<stream, 2> streams{{{fd_guard{}, STDOUT_FILENO, "stdout"}, {fd_guard{}, STDERR_FILENO, "stderr"}}};
  fd_guard out_write, err_write, report_read, report_write;
  if (!make_pipe(streams[0].from, out_write) || !make_pipe(streams[1].from, err_write) ||
      !make_pipe(report_read, report_write)) {
    return launch_failure{errno, false};
  }

  pid_t pid = 0;
  {
    const signals::blocked block;
    if (signals::stop_signal() != 0) return not_started{};
    pid = ::fork();
    if (pid == 0) exec_in_child(argv, out_write.get(), err_write.get(), report_write.get(), block.previous());
    if (pid < 0) return launch_failure{errno, false};
    signals::set_command_pid(pid);
  }
  out_write.reset();
  err_write.reset();
  report_write.reset();

  if (const auto error = exec_error(report_read.get())) {
    (void)wait_for(pid);
    return launch_failure{*error, true};
  }

  static char buffer[read_buffer_size];
  std::optional<int> status;
  std::optional<clock::time_point> drain_until;
  for (;;) {
    if (status && !drain_until) drain_until = clock::now() + drain_grace;
    std::array<pollfd, 3> fds{};
    nfds_t count = 0;
    fds[count++] = {signals::wake_fd(), POLLIN, 0};
    std::array<stream*, 2> polled{};
    for (auto& s : streams) {
      if (s.from.get() < 0) continue;
      polled[count - 1] = &s;
      fds[count++] = {s.from.get(), POLLIN, 0};
    }
    if (status && count == 1) break;
    int timeout = -1;
    if (drain_until) {
      const auto left = std::chrono::ceil<std::chrono::milliseconds>(*drain_until - clock::now());
      if (left.count() <= 0) break;
      timeout = static_cast<int>(left.count());
    }
    if (::poll(fds.data(), count, timeout) < 0) {
      if (errno == EINTR) continue;
      say(std::string("cannot watch the command's output: ") + std::strerror(errno));
      break;
    }
    if (fds[0].revents != 0) {
      signals::drain_wakeups();
      reap(pid, status);
    }
    for (nfds_t i = 1; i < count; ++i) {
      if (fds[i].revents == 0) continue;
      if (!pump(*polled[i - 1], buffer)) polled[i - 1]->from.reset();
    }
  }
  // Left by a failed poll: the output is abandoned, the command's ending still awaited.
  if (!status) status = wait_for(pid);
  if (!status) return launch_failure{errno, false};

  attempt_result result;
  result.killed = WIFSIGNALED(*status);
  result.code = result.killed ? WTERMSIG(*status) : WEXITSTATUS(*status);
  for (const auto& s : streams) {
    result.printed_flag_refusal = result.printed_flag_refusal || s.scanner.seen(0);
    result.printed_uninstall_started = result.printed_uninstall_started || s.scanner.seen(1);
  }
  return result;
}

}  // namespace lug::supervisor
