// The running webhook: everything `serve` builds from its flags, wired together. Owns
// the io_context and its worker threads, the three listeners (webhook, health probes,
// metrics) and their routes,
// the Kubernetes API client and the shared fresh reads, the metrics, the serving
// certificate's watcher, and the shutdown sequence.
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "guard/hold_policy.hpp"
#include "guard/init_container.hpp"
#include "guard/scope.hpp"
#include "guard/setting_reader.hpp"
#include "guard/uninstall_wrapper.hpp"
#include "kube/cluster_config.hpp"
#include "transport/tls_context.hpp"

#include <boost/asio/ip/tcp.hpp>

namespace lug::cli {

struct webhook_settings {
  boost::asio::ip::tcp::endpoint listen;                               // the webhook, over TLS
  std::optional<boost::asio::ip::tcp::endpoint> health_probe_listen;  // none: not served
  std::optional<boost::asio::ip::tcp::endpoint> metrics_listen;       // none: not served
  bool metrics_tls = false;  // /metrics over TLS with the serving certificate
  transport::tls_files tls;
  std::chrono::nanoseconds shutdown_grace = std::chrono::seconds(20);
  unsigned threads = 1;  // io_context threads (see cli/worker_threads.hpp for the default)
  kube::cluster_config cluster;
  guard::setting_ref setting;
  guard::uninstall_job job;
  guard::hold_policy hold;
  guard::init_container_spec init_container;
  guard::supervisor_wrap supervisor;
};

// Runs until SIGTERM or SIGINT, then drains; returns the process exit code.
int run_webhook(const webhook_settings& settings);

}  // namespace lug::cli
