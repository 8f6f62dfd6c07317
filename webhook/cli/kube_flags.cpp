#include "cli/kube_flags.hpp"

#include <array>
#include <string>

#include "cli/flags.hpp"
#include "kube/kubeconfig.hpp"

namespace lug::cli {
namespace {

constexpr std::array<const char*, 3> explicit_flags{"kube-api", "kube-ca-file", "kube-token-file"};

// The flag's value, or "" when it was not given; an empty value is a mistake worth naming.
std::string flag_text(const cxxopts::ParseResult& parsed, const std::string& name) {
  if (parsed.count(name) == 0) return {};
  auto value = parsed[name].as<std::string>();
  if (value.empty()) throw usage_error("--" + name + " needs a value");
  return value;
}

}  // namespace

void add_kube_flags(cxxopts::Options& options) {
  options.add_options("Kubernetes API (default: this pod's service account)")
      ("kubeconfig", "kubeconfig FILE to reach the API server with", cxxopts::value<std::string>())
      ("context", "kubeconfig context to use (default: its current-context)", cxxopts::value<std::string>())
      ("kube-api", "API server URL, https://HOST[:PORT][/PATH] (with --kube-ca-file and --kube-token-file)",
       cxxopts::value<std::string>())
      ("kube-ca-file", "PEM CA bundle the API server's certificate must chain to", cxxopts::value<std::string>())
      ("kube-token-file", "file holding the bearer token; re-read when it changes", cxxopts::value<std::string>());
}

kube::cluster_config load_cluster_config(const cxxopts::ParseResult& parsed) {
  const std::string kubeconfig = flag_text(parsed, "kubeconfig");
  const std::string context = flag_text(parsed, "context");
  std::string given;
  std::string missing;
  for (const char* name : explicit_flags) {
    std::string& list = flag_text(parsed, name).empty() ? missing : given;
    list += (list.empty() ? "--" : ", --") + std::string(name);
  }

  if (!kubeconfig.empty()) {
    if (!given.empty()) {
      throw usage_error("--kubeconfig cannot be combined with " + given +
                        ": choose either a kubeconfig or --kube-api, --kube-ca-file and --kube-token-file");
    }
    return kube::load_kubeconfig(kubeconfig, context);
  }
  if (!context.empty()) throw usage_error("--context selects a context of --kubeconfig, which is not given");
  if (!given.empty()) {
    if (!missing.empty()) {
      throw usage_error("--kube-api, --kube-ca-file and --kube-token-file go together: " + given +
                        " given, missing " + missing);
    }
    return kube::load_from_flags(parsed["kube-api"].as<std::string>(), parsed["kube-ca-file"].as<std::string>(),
                                 parsed["kube-token-file"].as<std::string>());
  }
  return kube::load_in_cluster();
}

}  // namespace lug::cli
