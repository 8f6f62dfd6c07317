// Choosing how to reach the API server, and which Setting to read, from command-line flags.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "cli/flags.hpp"
#include "cli/kube_flags.hpp"
#include "cli/setting_flags.hpp"
#include "test_support.hpp"

namespace {

using lug::test::contains;
using lug::test::temp_dir;

cxxopts::ParseResult parse(std::vector<std::string> args) {
  cxxopts::Options options("test");
  lug::cli::add_kube_flags(options);
  lug::cli::add_setting_flags(options);
  args.insert(args.begin(), "test");
  std::vector<char*> argv;
  for (auto& arg : args) argv.push_back(arg.data());
  return options.parse(static_cast<int>(argv.size()), argv.data());
}

std::string usage_error_of(const std::vector<std::string>& args) {
  try {
    lug::cli::load_cluster_config(parse(args));
  } catch (const lug::cli::usage_error& e) {
    return e.what();
  } catch (const std::exception& e) {
    return std::string("not a usage error: ") + e.what();
  }
  return "(no error)";
}


}  // namespace

TEST_SUITE("kube flags") {
  TEST_CASE("--kube-api alone is a usage error naming the two missing flags") {
    const auto message = usage_error_of({"--kube-api", "https://127.0.0.1:6443"});
    CHECK(contains(message, "missing --kube-ca-file, --kube-token-file"));
  }

  TEST_CASE("--kube-ca-file without --kube-api is a usage error naming --kube-api") {
    CHECK(contains(usage_error_of({"--kube-ca-file", "ca.pem", "--kube-token-file", "t"}), "missing --kube-api"));
  }

  TEST_CASE("--kubeconfig together with --kube-api is a usage error, not a silent choice") {
    const auto message = usage_error_of({"--kubeconfig", "config", "--kube-api", "https://a"});
    CHECK(contains(message, "--kubeconfig cannot be combined with --kube-api"));
  }

  TEST_CASE("--context without --kubeconfig is a usage error") {
    CHECK(contains(usage_error_of({"--context", "prod"}), "--kubeconfig"));
  }

  TEST_CASE("an empty --kubeconfig is a usage error") {
    CHECK(contains(usage_error_of({"--kubeconfig", ""}), "--kubeconfig needs a value"));
  }

  TEST_CASE("the three explicit flags together give a config from them") {
    temp_dir dir;
    const auto ca = dir.write("ca.pem", "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n");
    const auto token = dir.write("token", "t");
    const auto config = lug::cli::load_cluster_config(
        parse({"--kube-api", "https://127.0.0.1:6443", "--kube-ca-file", ca, "--kube-token-file", token}));
    CHECK(config.host == "127.0.0.1");
    CHECK(config.port == 6443);
    CHECK(config.token_file == token);
  }

  TEST_CASE("--kubeconfig with --context loads that context") {
    temp_dir dir;
    const auto file = dir.write("config",
                                "contexts:\n- name: a\n  context: {cluster: c}\n"
                                "clusters:\n- name: c\n  cluster: {server: 'https://k.example:6443'}\n");
    const auto config = lug::cli::load_cluster_config(parse({"--kubeconfig", file, "--context", "a"}));
    CHECK(config.host == "k.example");
  }
}

TEST_SUITE("setting flags") {
  TEST_CASE("the defaults name Longhorn's deleting-confirmation-flag in longhorn-system, v1beta2") {
    const auto setting = lug::cli::setting_ref_from_flags(parse({}));
    CHECK(setting.namespace_name == "longhorn-system");
    CHECK(setting.name == "deleting-confirmation-flag");
    CHECK(setting.api_version == "v1beta2");
  }

  TEST_CASE("each flag overrides its default") {
    const auto setting = lug::cli::setting_ref_from_flags(
        parse({"--namespace", "storage", "--setting", "my.flag", "--setting-api-version", "v1beta1"}));
    CHECK(setting.namespace_name == "storage");
    CHECK(setting.name == "my.flag");
    CHECK(setting.api_version == "v1beta1");
  }

  TEST_CASE("names that could not be Kubernetes names, or would change the URL path, are usage errors") {
    for (const auto& args : std::vector<std::vector<std::string>>{{"--namespace", "Longhorn"},
                                                                  {"--namespace", "a.b"},
                                                                  {"--namespace", ""},
                                                                  {"--setting", "../secrets/x"},
                                                                  {"--setting", "a?resourceVersion=0"},
                                                                  {"--setting", "-flag"},
                                                                  {"--setting-api-version", "v1/x"}}) {
      CAPTURE(args[0]);
      CAPTURE(args[1]);
      CHECK_THROWS_AS(lug::cli::setting_ref_from_flags(parse(args)), lug::cli::usage_error);
    }
  }
}
