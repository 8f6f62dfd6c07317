// The init container's command line is a contract between the mutating webhook, which
// writes it, and `wait`, which parses it: parse exactly what the webhook writes.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "cli/flags.hpp"
#include "cli/setting_flags.hpp"
#include "cli/wait_command.hpp"
#include "guard/init_container.hpp"
#include "guard/uninstall_wrapper.hpp"
#include "guard/wait_flags.hpp"

using namespace std::chrono_literals;

namespace {

struct parsed_command {
  std::string command;
  lug::guard::setting_ref setting;
  lug::cli::wait_invocation invocation;
};

// The container's args through `wait`'s own flag parser, as main would hand them over.
parsed_command parse(const nlohmann::json& container) {
  std::vector<std::string> args;
  for (const auto& arg : container.at("args")) args.push_back(arg.get<std::string>());
  REQUIRE_FALSE(args.empty());
  std::vector<char*> argv;
  for (auto& arg : args) argv.push_back(arg.data());
  auto options = lug::cli::wait_flag_parser("longhorn-uninstall-guard wait");
  const auto parsed = lug::cli::parse_flags(options, static_cast<int>(argv.size()), argv.data());
  REQUIRE(parsed.has_value());
  return {args.front(), lug::cli::setting_ref_from_flags(*parsed), lug::cli::wait_invocation_from_flags(*parsed)};
}

const lug::guard::token_mount token{"kube-api-access-x", lug::guard::default_token_mount_path};

}  // namespace

TEST_CASE("wait parses the command line the webhook writes, with every value the webhook was given") {
  lug::guard::init_container_spec spec{.image = "example.org/guard:v1",
                                       .setting = {"v1beta1", "storage", "confirm-delete"},
                                       .settle = 3s,
                                       .poll_interval = 250ms};
  const auto command = parse(lug::guard::make_init_container(spec, token, false));
  CHECK(command.command == lug::guard::wait_flags::command);
  CHECK(command.setting.api_version == "v1beta1");
  CHECK(command.setting.namespace_name == "storage");
  CHECK(command.setting.name == "confirm-delete");
  CHECK(command.invocation.wait.poll_interval == 250ms);
  CHECK(command.invocation.wait.settle == 3s);
  CHECK(command.invocation.wait.timeout == 0s);
  CHECK_FALSE(command.invocation.install_supervisor.has_value());
}

TEST_CASE("wait parses the supervisor installation the webhook asks for") {
  const auto command = parse(lug::guard::make_init_container({.image = "x"}, token, true));
  REQUIRE(command.invocation.install_supervisor.has_value());
  CHECK(*command.invocation.install_supervisor == lug::guard::supervisor_installed_path);
  CHECK(command.invocation.supervisor_source == lug::guard::supervisor_image_path);
}

TEST_CASE("the webhook's defaults and wait's own defaults agree") {
  const lug::guard::init_container_spec defaults{.image = "x"};
  const auto command = parse(lug::guard::make_init_container(defaults, token, false));
  const lug::guard::wait_options wait_defaults;
  CHECK(command.invocation.wait.poll_interval == wait_defaults.poll_interval);
  CHECK(command.invocation.wait.settle == wait_defaults.settle);
  CHECK(command.setting.name == lug::guard::setting_ref{}.name);
}
