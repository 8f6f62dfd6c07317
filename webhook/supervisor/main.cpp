// longhorn-uninstall-supervisor: runs `longhorn-manager uninstall` inside the uninstall
// container and runs it again when it lost the race of longhorn/longhorn#10483 (see
// retry_rule.hpp). Statically linked, it depends on nothing in the longhorn-manager image.
#include <string_view>
#include <variant>
#include <vector>

#include <unistd.h>

#include "supervisor/arguments.hpp"
#include "supervisor/diagnostics.hpp"
#include "supervisor/supervise.hpp"

int main(int argc, char** argv) {
  using namespace lug::supervisor;
  const std::vector<std::string_view> args(argv + 1, argv + argc);
  const auto parsed = parse_arguments(args);
  if (std::holds_alternative<help_requested>(parsed)) {
    return write_all(STDOUT_FILENO, usage_text()) ? 0 : 1;
  }
  if (const auto* problem = std::get_if<usage_problem>(&parsed)) {
    say(problem->message + " (--help shows the usage)");
    return exit_usage;
  }
  return supervise(std::get<options>(parsed));
}
