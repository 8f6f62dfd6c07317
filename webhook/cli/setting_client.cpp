#include "cli/setting_client.hpp"

#include "cli/flags.hpp"
#include "cli/kube_flags.hpp"
#include "cli/setting_flags.hpp"

namespace lug::cli {
namespace {

// Every flag is checked (and logging set up) before any file is read, so that a usage
// error is reported as one whatever the cluster configuration.
guard::setting_ref checked_setting(const cxxopts::ParseResult& parsed) {
  auto setting = setting_ref_from_flags(parsed);
  apply_logging_flags(parsed);
  return setting;
}

}  // namespace

void add_setting_client_flags(cxxopts::Options& options) {
  add_setting_flags(options);
  add_kube_flags(options);
  add_logging_flags(options);
}

setting_client::setting_client(const cxxopts::ParseResult& parsed)
    : setting_client(parsed, checked_setting(parsed)) {}

setting_client::setting_client(const cxxopts::ParseResult& parsed, guard::setting_ref setting)
    : client_(io_.get_executor(), load_cluster_config(parsed)), reader_(client_, std::move(setting)) {}

}  // namespace lug::cli
