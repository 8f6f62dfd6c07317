#include "transport/server.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include "support/log.hpp"
#include "transport/client_presence.hpp"
#include "transport/error_response.hpp"
#include "transport/limits.hpp"
#include "transport/request_reader.hpp"

namespace lug::transport {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
using tcp = net::ip::tcp;
using tls_stream = beast::ssl_stream<beast::tcp_stream>;

constexpr auto use_tuple = net::as_tuple(net::use_awaitable);

// After an accept error such as EMFILE, wait before accepting again instead of spinning.
constexpr auto accept_error_backoff = std::chrono::milliseconds(100);

std::string describe(const tcp::endpoint& endpoint) {
  const auto address = endpoint.address();
  std::string text = address.is_v6() ? "[" + address.to_string() + "]" : address.to_string();
  return text + ":" + std::to_string(endpoint.port());
}

}  // namespace

struct server::connection {
  net::any_io_executor strand;
  beast::tcp_stream* stream = nullptr;  // valid while alive; touched only on the strand
  bool alive = true;
  bool idle = false;
};

server::server(net::any_io_executor executor, listener_options options, const router& routes)
    : io_executor_(executor),
      executor_(net::make_strand(executor)),
      acceptor_(executor_),
      options_(std::move(options)),
      routes_(routes) {
  acceptor_.open(options_.endpoint.protocol());
  acceptor_.set_option(net::socket_base::reuse_address(true));
  acceptor_.bind(options_.endpoint);
  acceptor_.listen(limits::listen_backlog);
}

server::~server() = default;

tcp::endpoint server::local_endpoint() const { return acceptor_.local_endpoint(); }

std::size_t server::open_connections() const {
  std::lock_guard lock(mutex_);
  return connections_.size();
}

void server::start() {
  net::co_spawn(executor_, accept_loop(), [](std::exception_ptr error) {
    if (!error) return;
    try {
      std::rethrow_exception(error);
    } catch (const std::exception& e) {
      log::error("accept loop failed", {{"error", e.what()}});
    }
  });
}

net::awaitable<void> server::accept_loop() {
  net::steady_timer backoff(executor_);
  while (!draining_.load()) {
    auto [ec, socket] = co_await acceptor_.async_accept(net::make_strand(io_executor_), use_tuple);
    if (ec == net::error::operation_aborted || !acceptor_.is_open()) break;
    if (ec) {
      log::warn("accept failed", {{"error", ec.message()}});
      backoff.expires_after(accept_error_backoff);
      co_await backoff.async_wait(use_tuple);
      continue;
    }
    if (open_connections() >= options_.max_connections) {
      log::warn("connection refused: too many open connections",
                {{"listener", options_.name}, {"limit", options_.max_connections}});
      beast::error_code ignored;
      socket.shutdown(tcp::socket::shutdown_both, ignored);
      socket.close(ignored);
      continue;
    }
    auto executor = socket.get_executor();
    net::co_spawn(executor, serve_connection(std::move(socket)), [](std::exception_ptr error) {
      if (!error) return;
      try {
        std::rethrow_exception(error);
      } catch (const std::exception& e) {
        log::error("connection failed", {{"error", e.what()}});
      }
    });
  }
}

net::awaitable<void> server::serve_connection(tcp::socket socket) {
  beast::error_code ignored;
  const auto remote = socket.remote_endpoint(ignored);
  const std::string peer = describe(remote);
  auto self = std::make_shared<connection>();
  self->strand = socket.get_executor();
  std::uint64_t id = 0;
  {
    std::lock_guard lock(mutex_);
    id = next_id_++;
    connections_.emplace(id, self);
  }

  if (options_.certificates == nullptr) {
    beast::tcp_stream stream(std::move(socket));
    self->stream = &stream;
    co_await serve_requests(stream, *self, peer);
    // Plain TCP: FIN after the last answer; closing with unread bytes would reset instead.
    stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
    self->alive = false;
    stream.close();
  } else {
    // Taken once per connection, which keeps it alive: a certificate reload applies from
    // the next accepted connection on and never touches this one.
    const auto context = options_.certificates->current();
    tls_stream stream(beast::tcp_stream(std::move(socket)), *context);
    auto& tcp_layer = beast::get_lowest_layer(stream);
    self->stream = &tcp_layer;
    tcp_layer.expires_after(limits::handshake_timeout);
    auto [handshake_ec] = co_await stream.async_handshake(net::ssl::stream_base::server, use_tuple);
    if (handshake_ec) {
      // Scanners, plain-HTTP clients and clients that distrust our CA end here; not our error.
      log::debug("TLS handshake failed", {{"peer", peer}, {"error", handshake_ec.message()}});
    } else if (co_await serve_requests(stream, *self, peer)) {
      // close_notify, bounded: reading the peer's reply also drains what it was still
      // sending, so an error answer is not lost to a TCP reset.
      tcp_layer.expires_after(limits::tls_shutdown_timeout);
      co_await stream.async_shutdown(use_tuple);
    }
    self->alive = false;
    tcp_layer.close();
  }
  forget(id);
}

// Requests in turn until the client or the server ends the connection. False when the
// client has gone, so that nothing more is sent to it.
template <typename Stream>
net::awaitable<bool> server::serve_requests(Stream& stream, connection& self, const std::string& peer) {
  auto& tcp_layer = beast::get_lowest_layer(stream);
  beast::flat_buffer buffer(read_buffer_bytes);
  bool first = true;
  for (;;) {
    // Wait for the next request's first byte: a short wait on a new connection, the
    // idle timeout between keep-alive requests. Idle connections are closed by drain().
    if (buffer.size() == 0) {
      if (draining_.load()) co_return true;
      self.idle = true;
      tcp_layer.expires_after(first ? limits::header_timeout : limits::idle_timeout);
      auto [ec, n] = co_await stream.async_read_some(buffer.prepare(first_read_bytes), use_tuple);
      self.idle = false;
      if (ec) co_return true;
      buffer.commit(n);
    }
    first = false;

    auto read = co_await read_request(stream, buffer);
    if (!read) {
      auto& failure = read.error();
      if (auto& answer = failure.answer) {
        log::warn("request rejected", {{"status", static_cast<unsigned>(answer->result())},
                                       {"message", failure.error.message()},
                                       {"peer", peer}});
        answer->keep_alive(false);
        tcp_layer.expires_after(limits::write_timeout);
        co_await http::async_write(stream, *answer, use_tuple);
      } else if (failure.error == beast::error::timeout) {
        log::debug("connection timed out reading a request", {{"peer", peer}});
      }
      co_return true;
    }

    request& req = *read;
    // A handler may hold the request for up to --max-hold: the connection keeps no read
    // buffer meanwhile (the next wait reserves one again), unless pipelined bytes are in it.
    if (buffer.size() == 0) buffer.shrink_to_fit();
    stream_presence<Stream> client(stream, buffer);
    const request_context ctx{peer, std::chrono::steady_clock::now(), &client};
    response res;
    try {
      res = co_await routes_.dispatch(req, ctx);
    } catch (const std::exception& e) {
      log::error("handler failed", {{"peer", peer}, {"target", std::string(req.target())}, {"error", e.what()}});
      res = error_response(http::status::internal_server_error, std::string("internal error: ") + e.what());
    }
    if (client.known_gone()) {
      log::debug("client went away before its answer", {{"peer", peer}, {"target", std::string(req.target())}});
      co_return false;
    }
    const bool keep_alive = req.keep_alive() && !draining_.load();
    res.version(req.version());
    res.keep_alive(keep_alive);
    res.prepare_payload();
    // HEAD: GET's headers, Content-Length included, and no body (RFC 9110 §9.3.2); a body
    // would be read by the client as the start of the next response.
    if (req.method() == http::verb::head) res.body().clear();
    tcp_layer.expires_after(limits::write_timeout);
    auto [write_ec, write_n] = co_await http::async_write(stream, res, use_tuple);
    if (write_ec || !keep_alive) co_return true;
  }
}

void server::forget(std::uint64_t id) {
  std::function<void()> drained;
  {
    std::lock_guard lock(mutex_);
    connections_.erase(id);
    if (draining_.load() && connections_.empty() && on_drained_) drained = std::exchange(on_drained_, nullptr);
  }
  if (drained) drained();
}

void server::drain(std::function<void()> on_drained) {
  draining_.store(true);
  net::post(executor_, [this] {
    beast::error_code ignored;
    acceptor_.close(ignored);
  });
  std::function<void()> drained;
  {
    std::lock_guard lock(mutex_);
    on_drained_ = std::move(on_drained);
    for (const auto& [id, conn] : connections_) {
      net::post(conn->strand, [conn = conn] {  // a copy: clang < 16 cannot capture a structured binding
        if (conn->alive && conn->idle) conn->stream->cancel();
      });
    }
    if (connections_.empty()) drained = std::exchange(on_drained_, nullptr);
  }
  if (drained) drained();
}

void server::force_close() {
  std::lock_guard lock(mutex_);
  for (const auto& [id, conn] : connections_) {
    net::post(conn->strand, [conn = conn] {  // a copy: clang < 16 cannot capture a structured binding
      if (!conn->alive || conn->stream == nullptr) return;
      beast::error_code ignored;
      conn->stream->socket().shutdown(tcp::socket::shutdown_both, ignored);
      conn->stream->cancel();
    });
  }
}

}  // namespace lug::transport
