#include <doctest/doctest.h>

#include <filesystem>
#include <string>

#include "cli/worker_threads.hpp"
#include "test_support.hpp"

namespace fs = std::filesystem;
using lug::cli::cgroup_cpu_limit;

namespace {

// A throw-away cgroup v2 tree: cpu.max files at the paths given.
class cgroup_tree {
 public:
  void cpu_max(const std::string& cgroup, const std::string& text) const {
    dir_.write((fs::path(cgroup).relative_path() / "cpu.max").string(), text);
  }
  const fs::path& root() const { return dir_.path(); }

 private:
  lug::test::temp_dir dir_;
};

}  // namespace

TEST_SUITE("worker threads follow the CPUs the process may use") {
  TEST_CASE("a container's own limit sits at the root of its cgroup namespace") {
    cgroup_tree tree;
    tree.cpu_max("/", "150000 100000\n");
    const auto limit = cgroup_cpu_limit(tree.root(), "0::/\n");
    REQUIRE(limit.has_value());
    CHECK(*limit == doctest::Approx(1.5));
  }
  TEST_CASE("on a host the tightest limit of the cgroup and its ancestors wins") {
    cgroup_tree tree;
    tree.cpu_max("/kubepods", "400000 100000");
    tree.cpu_max("/kubepods/pod1", "50000 100000");
    tree.cpu_max("/kubepods/pod1/c1", "max 100000");
    const auto limit = cgroup_cpu_limit(tree.root(), "0::/kubepods/pod1/c1\n");
    REQUIRE(limit.has_value());
    CHECK(*limit == doctest::Approx(0.5));
  }
  TEST_CASE("no limit: max, missing files, no cgroup v2 line, malformed files") {
    cgroup_tree tree;
    tree.cpu_max("/a", "max 100000");
    CHECK_FALSE(cgroup_cpu_limit(tree.root(), "0::/a\n").has_value());
    CHECK_FALSE(cgroup_cpu_limit(tree.root(), "0::/not/there\n").has_value());
    CHECK_FALSE(cgroup_cpu_limit(tree.root(), "12:cpu,cpuacct:/a\n").has_value());
    tree.cpu_max("/b", "lots 100000");
    CHECK_FALSE(cgroup_cpu_limit(tree.root(), "0::/b\n").has_value());
    tree.cpu_max("/c", "100000 0");
    CHECK_FALSE(cgroup_cpu_limit(tree.root(), "0::/c\n").has_value());
  }
  TEST_CASE("a path cannot climb out of the cgroup mount") {
    cgroup_tree tree;
    tree.cpu_max("/x", "100000 100000");
    CHECK_FALSE(cgroup_cpu_limit(tree.root() / "x" / "y", "0::/../../x\n").has_value());
  }
  TEST_CASE("the default is at least one thread and at most the affinity mask") {
    const unsigned threads = lug::cli::default_worker_threads();
    CHECK(threads >= 1);
    CHECK(threads <= lug::cli::affinity_cpus());
  }
}
