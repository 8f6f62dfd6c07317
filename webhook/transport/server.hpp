// An HTTP/1.1 server on one listening address, over TLS or plain TCP: accepts
// connections up to its own cap, runs one coroutine per connection (each on its own
// strand, so a connection's steps never run concurrently), and shuts down gracefully.
// Each listener (webhook, health probes, metrics) is a server of its own, so a client that
// fills one listener's connections cannot starve another's.
//
// Graceful shutdown (drain): the acceptor closes; every response from then on carries
// `Connection: close`; idle keep-alive connections are closed at once (otherwise the
// API server keeps sending to a terminating pod); connections with a request in
// flight finish it. `on_drained` is called once no connection is left. force_close()
// ends whatever is still open when the grace period is over.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "transport/certificate_store.hpp"
#include "transport/router.hpp"

namespace lug::transport {

struct listener_options {
  std::string name;  // for logs: "webhook", "health probes", "metrics"
  boost::asio::ip::tcp::endpoint endpoint;
  std::size_t max_connections = 0;                  // beyond it, accepted and closed at once
  const certificate_store* certificates = nullptr;  // TLS with these; plain HTTP when null
};

class server {
 public:
  // `options.certificates` (when set) and `routes` must outlive the server.
  server(boost::asio::any_io_executor executor, listener_options options, const router& routes);
  ~server();
  server(const server&) = delete;
  server& operator=(const server&) = delete;

  // The bound address (useful with port 0).
  boost::asio::ip::tcp::endpoint local_endpoint() const;

  void start();

  // Begins the drain; `on_drained` runs (on some executor thread) when the last
  // connection has closed, immediately if there is none.
  void drain(std::function<void()> on_drained);
  void force_close();

  bool draining() const { return draining_.load(); }
  std::size_t open_connections() const;

  // A live connection as the server sees it; defined in server.cpp.
  struct connection;

 private:
  boost::asio::awaitable<void> accept_loop();
  boost::asio::awaitable<void> serve_connection(boost::asio::ip::tcp::socket socket);
  template <typename Stream>
  boost::asio::awaitable<bool> serve_requests(Stream& stream, connection& self, const std::string& peer);
  void forget(std::uint64_t id);

  boost::asio::any_io_executor io_executor_;  // the pool: each connection gets a strand of it
  boost::asio::any_io_executor executor_;     // the acceptor's strand
  boost::asio::ip::tcp::acceptor acceptor_;
  listener_options options_;
  const router& routes_;

  std::atomic<bool> draining_{false};
  mutable std::mutex mutex_;
  std::unordered_map<std::uint64_t, std::shared_ptr<connection>> connections_;
  std::uint64_t next_id_ = 0;
  std::function<void()> on_drained_;
};

}  // namespace lug::transport
