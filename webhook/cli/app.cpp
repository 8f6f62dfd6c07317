#include "cli/app.hpp"

#include <exception>
#include <iostream>
#include <string>
#include <string_view>

#include "cli/flags.hpp"
#include "support/version.hpp"

namespace lug::cli {
namespace {

constexpr std::string_view program = "longhorn-uninstall-guard";

void print_usage(std::ostream& out) {
  out << "longhorn-uninstall-guard " << lug::version << "\n"
      << "Admission webhook that makes uninstalling Longhorn safe: it holds the uninstall Job's pods\n"
      << "until the deleting-confirmation-flag setting reads true.\n\n"
      << "Usage:\n"
      << "  " << program << " serve [flags]   run the validating and mutating webhook server\n"
      << "  " << program << " wait [flags]    wait until the flag reads true fresh and cached (init container)\n"
      << "  " << program << " check [flags]   read the flag once, fresh and cached, and print both\n"
      << "  " << program << " version         print the version\n\n"
      << "Run '" << program << " <command> --help' for the flags of a command.\n";
}

}  // namespace

int run(int argc, char** argv) {
  if (argc < 2) {
    print_usage(std::cerr);
    return exit_usage;
  }
  const std::string_view command = argv[1];
  if (command == "-h" || command == "--help" || command == "help") {
    print_usage(std::cout);
    return exit_ok;
  }
  if (command == "--version" || command == "version") {
    std::cout << program << " " << lug::version << "\n";
    return exit_ok;
  }

  // The command sees itself as argv[0].
  std::string name = std::string(program) + " " + std::string(command);
  argv[1] = name.data();
  try {
    if (command == "serve") return serve_command(argc - 1, argv + 1);
    if (command == "wait") return wait_command(argc - 1, argv + 1);
    if (command == "check") return check_command(argc - 1, argv + 1);
  } catch (const usage_error& e) {
    std::cerr << name << ": " << e.what() << "\nRun '" << name << " --help' for usage.\n";
    return exit_usage;
  } catch (const std::exception& e) {
    std::cerr << name << ": " << e.what() << "\n";
    return exit_failure;
  }
  std::cerr << program << ": unknown command \"" << command << "\"\n\n";
  print_usage(std::cerr);
  return exit_usage;
}

}  // namespace lug::cli
