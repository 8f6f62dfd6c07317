// The command line: `longhorn-uninstall-guard <command> [flags]`. Dispatches to the
// commands (serve, wait, check, version) and owns the exit-code convention.
#pragma once

namespace lug::cli {

int run(int argc, char** argv);

// Each command receives argv with argv[0] naming the command ("longhorn-uninstall-guard serve").
int serve_command(int argc, char** argv);
int wait_command(int argc, char** argv);
int check_command(int argc, char** argv);

}  // namespace lug::cli
