// What `wait` and `check` share: the flags that say which Setting to read and how to reach
// the API server (plus logging), and the client those flags make.
#pragma once

#include <cxxopts.hpp>
#include <boost/asio/io_context.hpp>

#include "guard/setting_reader.hpp"
#include "kube/api_client.hpp"

namespace lug::cli {

// --namespace, --setting, --setting-api-version; the kube flags; --log-level, --log-format.
void add_setting_client_flags(cxxopts::Options& options);

// A reader of the Setting the flags name, on its own io_context.
class setting_client {
 public:
  // Applies the logging flags. Throws usage_error for bad flags, kube::config_error for
  // unusable files or environment (each command reports that its own way).
  explicit setting_client(const cxxopts::ParseResult& parsed);

  boost::asio::io_context& io() { return io_; }
  guard::setting_reader& reader() { return reader_; }
  const guard::setting_ref& setting() const { return reader_.setting(); }
  const kube::cluster_config& config() const { return client_.config(); }

 private:
  setting_client(const cxxopts::ParseResult& parsed, guard::setting_ref setting);

  boost::asio::io_context io_;
  kube::api_client client_;
  guard::setting_reader reader_;
};

}  // namespace lug::cli
