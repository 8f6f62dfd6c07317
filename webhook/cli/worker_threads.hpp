// How many threads run the webhook's io_context by default: one per CPU the process can
// actually use. That is the CPUs of its affinity mask (taskset, a cpuset), capped by its
// cgroup's CPU quota (a container's resources.limits.cpu, rounded up). More threads than
// that only pass requests to each other through futex wake-ups and get throttled by the
// quota; one thread per usable CPU keeps every CPU busy without that churn.
#pragma once

#include <filesystem>
#include <optional>
#include <string_view>

namespace lug::cli {

// The most threads --threads accepts: far beyond any useful value for a webhook.
inline constexpr unsigned max_worker_threads = 64;

// CPUs in this process's affinity mask (at least 1).
unsigned affinity_cpus();

// The tightest cgroup v2 CPU limit in CPUs (quota / period from cpu.max) of the cgroup
// named in `proc_self_cgroup` (the text of /proc/self/cgroup, line "0::PATH") and its
// ancestors, under `cgroup_mount` (normally /sys/fs/cgroup); nullopt when none is set
// ("max") or the files are not there (cgroup v1 hosts, or no cgroup filesystem).
std::optional<double> cgroup_cpu_limit(const std::filesystem::path& cgroup_mount, std::string_view proc_self_cgroup);

// min(affinity CPUs, ceil(cgroup limit)), at least 1: what `serve` runs when --threads is 0.
unsigned default_worker_threads();

}  // namespace lug::cli
