#include "cli/worker_threads.hpp"

#include <sched.h>

#include <algorithm>
#include <cmath>
#include <sstream>
#include <string>

#include "support/small_file.hpp"

namespace lug::cli {
namespace {

// cpu.max is one short line and /proc/self/cgroup one line per hierarchy (about a dozen
// under cgroup v1); a file beyond this is not one of them.
constexpr std::uintmax_t max_cgroup_file_bytes = 64 * 1024;

// The file's text; nullopt when it is missing or unreadable, which means "no limit known".
std::optional<std::string> read_cgroup_file(const std::filesystem::path& path) {
  auto read = read_small_file(path, max_cgroup_file_bytes);
  if (!read) return std::nullopt;
  return std::move(read).value();
}

// "QUOTA PERIOD" in microseconds, or "max PERIOD" for no limit.
std::optional<double> parse_cpu_max(const std::string& text) {
  std::istringstream in(text);
  std::string quota;
  double period = 0;
  if (!(in >> quota >> period) || quota == "max" || period <= 0) return std::nullopt;
  try {
    std::size_t used = 0;
    const double q = std::stod(quota, &used);
    if (used != quota.size() || q <= 0) return std::nullopt;
    return q / period;
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

// The cgroup v2 path from /proc/self/cgroup ("0::/kubepods/pod1/abc"); empty when absent.
std::optional<std::string> unified_cgroup_path(std::string_view proc_self_cgroup) {
  std::istringstream in{std::string(proc_self_cgroup)};
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("0::", 0) == 0) return line.substr(3);
  }
  return std::nullopt;
}

}  // namespace

unsigned affinity_cpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) != 0) return 1;
  return static_cast<unsigned>(std::max(1, CPU_COUNT(&set)));
}

std::optional<double> cgroup_cpu_limit(const std::filesystem::path& cgroup_mount, std::string_view proc_self_cgroup) {
  const auto path = unified_cgroup_path(proc_self_cgroup);
  if (!path) return std::nullopt;
  // Inside a container the cgroup namespace makes the path "/", and the container's own
  // limit is at the mount's root; on a host it is the process's cgroup or an ancestor.
  std::optional<double> tightest;
  std::filesystem::path dir = cgroup_mount;
  const auto consider = [&](const std::filesystem::path& at) {
    if (const auto text = read_cgroup_file(at / "cpu.max")) {
      if (const auto limit = parse_cpu_max(*text); limit && (!tightest || *limit < *tightest)) tightest = limit;
    }
  };
  consider(dir);
  for (const auto& part : std::filesystem::path(*path).relative_path()) {
    if (part.empty() || part == "..") break;  // never leave the mount
    dir /= part;
    consider(dir);
  }
  return tightest;
}

unsigned default_worker_threads() {
  unsigned threads = affinity_cpus();
  const auto own = read_cgroup_file("/proc/self/cgroup");
  if (own) {
    if (const auto limit = cgroup_cpu_limit("/sys/fs/cgroup", *own)) {
      threads = std::min(threads, static_cast<unsigned>(std::max(1.0, std::ceil(*limit))));
    }
  }
  return std::clamp(threads, 1U, max_worker_threads);
}

}  // namespace lug::cli
