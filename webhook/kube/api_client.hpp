// An HTTPS GET client for the Kubernetes API server, for C++20 coroutines.
//
// get() sends `GET <path prefix><path_and_query>` with our credentials (the bearer token
// re-read from its file when it rotates, or the client certificate), Accept:
// application/json and our User-Agent, and returns the response whatever its status, or a
// transport_failure. It never throws: every failure, including cancellation of the calling
// coroutine, comes back as a value. The whole call, from name resolution to the last body
// byte, is bounded by the caller's deadline; past it the call returns a timeout promptly.
//
// The server's certificate is always verified against the configured CA bundle and the
// server's name or IP (see tls_setup.hpp). Connections are kept alive and reused through a
// small pool of idle connections; a pooled connection the server closed meanwhile fails
// before any response byte arrives, and such a request is retried once on a new
// connection (a GET is safe to repeat). get() may be called concurrently from any thread;
// each call uses its own connection while it runs. The client must outlive its calls.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ssl/context.hpp>

#include "kube/api_result.hpp"
#include "kube/bearer_token.hpp"
#include "kube/cluster_config.hpp"

namespace lug::kube {

namespace net = boost::asio;

class api_client {
 public:
  // Responses are objects the guard reads one at a time: a Setting is well under 1 KiB and
  // the list of all Longhorn settings a few hundred KiB. etcd refuses requests over 1.5 MiB,
  // so no single object can be bigger than this; a larger body is not something we asked for.
  static constexpr std::size_t max_response_body = 2 * 1024 * 1024;
  // The guard makes at most a couple of concurrent reads (fresh and cached, a few admission
  // requests at once); idle connections beyond this are closed rather than kept.
  static constexpr std::size_t max_idle_connections = 4;
  // Idle connections older than this are closed instead of reused: load balancers in front
  // of API servers commonly drop idle connections after 60 s, and Go's HTTP server closes
  // them after its idle timeout; reusing one the server already closed costs a retry.
  static constexpr std::chrono::seconds max_idle_time{30};

  // Throws config_error when the TLS material in `config` cannot be loaded.
  api_client(net::any_io_executor executor, cluster_config config);
  ~api_client();
  api_client(const api_client&) = delete;
  api_client& operator=(const api_client&) = delete;

  // `path_and_query` starts with '/', e.g. "/apis/longhorn.io/v1beta2/namespaces/x/settings/y".
  net::awaitable<api_result> get(std::string path_and_query, std::chrono::steady_clock::time_point deadline);

  const cluster_config& config() const { return config_; }

 private:
  struct connection;

  net::awaitable<api_result> get_with_retry(std::string target, std::chrono::steady_clock::time_point started,
                                            std::chrono::steady_clock::time_point deadline);
  // A new, connected, TLS-established connection, or why there is none.
  net::awaitable<result<std::unique_ptr<connection>, transport_failure>> open(
      std::chrono::steady_clock::time_point started, std::chrono::steady_clock::time_point deadline);
  std::unique_ptr<connection> take_idle();
  void give_back(std::unique_ptr<connection> conn);

  net::any_io_executor executor_;
  const cluster_config config_;
  net::ssl::context tls_context_;
  std::unique_ptr<bearer_token> token_file_;  // null when the config has no token file
  const std::string host_header_;
  const std::string user_agent_;

  std::mutex idle_mutex_;
  std::vector<std::unique_ptr<connection>> idle_;
};

}  // namespace lug::kube
