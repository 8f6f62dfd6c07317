#include "kube/api_client.hpp"

#include <exception>
#include <optional>
#include <tuple>
#include <variant>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include "kube/tls_setup.hpp"
#include "support/duration.hpp"
#include "support/log.hpp"
#include "support/version.hpp"

namespace lug::kube {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;
using clock = std::chrono::steady_clock;
using boost::system::error_code;

constexpr auto awaitable_tuple = net::as_tuple(net::use_awaitable);

// Where a request was when it failed, for messages.
enum class phase { resolve, connect, handshake, send, receive };

std::string_view doing(phase p) {
  switch (p) {
    case phase::resolve: return "resolving the API server's name";
    case phase::connect: return "connecting";
    case phase::handshake: return "in the TLS handshake";
    case phase::send: return "sending the request";
    case phase::receive: return "waiting for the response";
  }
  return "";
}

unexpected<transport_failure> failure(failure_kind kind, std::string message) {
  return unexpected(transport_failure{kind, std::move(message)});
}

unexpected<transport_failure> timeout_failure(const std::string& server, clock::duration budget, phase p) {
  // The budget is measured from when get() began, a little after the caller computed its
  // deadline: round so that a 1s timeout reads "1s", not "999ms".
  const auto rounded = budget >= std::chrono::seconds(1)
                           ? std::chrono::round<std::chrono::milliseconds>(
                                 std::chrono::round<std::chrono::duration<long long, std::deci>>(budget))
                           : std::chrono::round<std::chrono::milliseconds>(budget);
  return failure(failure_kind::timeout, "no response from " + server + " within " + format_duration(rounded) +
                                            " (timed out " + std::string(doing(p)) + ")");
}

unexpected<transport_failure> cancelled_failure(const std::string& server) {
  return failure(failure_kind::cancelled, "request to " + server + " cancelled");
}

bool is_ip_literal(const std::string& host) {
  error_code ec;
  net::ip::make_address(host, ec);
  return !ec;
}

std::string make_host_header(const cluster_config& config) {
  std::string host = config.host.find(':') != std::string::npos ? "[" + config.host + "]" : config.host;
  if (config.port != 443) host += ":" + std::to_string(config.port);
  return host;
}

// The calling coroutine was cancelled (its cancellation slot fired): whatever error the
// current operation reported is a consequence of that.
net::awaitable<bool> cancelled() {
  const auto state = co_await net::this_coro::cancellation_state;
  co_return state.cancelled() != net::cancellation_type::none;
}

// Errors that mean the connection itself went away, as opposed to a malformed exchange.
bool is_connection_loss(const error_code& ec) {
  return ec == net::error::eof || ec == net::error::connection_reset || ec == net::error::connection_aborted ||
         ec == net::error::broken_pipe || ec == net::error::network_unreachable ||
         ec == net::error::host_unreachable || ec == net::error::connection_refused ||
         ec == net::ssl::error::stream_truncated || ec == http::error::end_of_stream;
}

// An error code as a person would say it: the server hanging up is not a "stream truncated".
std::string explain(const error_code& ec) {
  if (ec == net::error::eof || ec == net::ssl::error::stream_truncated || ec == http::error::end_of_stream ||
      ec == http::error::partial_message) {
    return "the server closed the connection";
  }
  if (ec == http::error::body_limit) return "the body is larger than the limit";
  return ec.message();
}

using tls_stream = beast::ssl_stream<beast::tcp_stream>;

// One request and its response on an established connection.
struct exchange_result {
  std::optional<api_response> response;
  bool keep_alive = false;
  error_code error;
  phase failed_in = phase::send;
  bool got_response_bytes = false;  // a failure after these cannot be a stale pooled connection
};

net::awaitable<exchange_result> exchange(tls_stream& stream, beast::flat_buffer& buffer,
                                         const http::request<http::empty_body>& request,
                                         clock::time_point deadline) {
  exchange_result exchanged;
  beast::get_lowest_layer(stream).expires_at(deadline);
  auto [write_error, written] = co_await http::async_write(stream, request, awaitable_tuple);
  if (write_error) {
    exchanged.error = write_error;
    exchanged.failed_in = phase::send;
    co_return exchanged;
  }
  // A fresh parser per response, with the body cap.
  http::response_parser<http::string_body> parser;
  parser.body_limit(api_client::max_response_body);
  auto [read_error, read] = co_await http::async_read(stream, buffer, parser, awaitable_tuple);
  if (read_error) {
    exchanged.error = read_error;
    exchanged.failed_in = phase::receive;
    exchanged.got_response_bytes = parser.got_some() || read > 0;
    co_return exchanged;
  }
  auto response = parser.release();
  exchanged.keep_alive = response.keep_alive();
  exchanged.response = api_response{response.result_int(), std::move(response.body())};
  co_return exchanged;
}

}  // namespace

struct api_client::connection {
  connection(const net::any_io_executor& executor, net::ssl::context& context) : stream(executor, context) {}

  tls_stream stream;
  beast::flat_buffer buffer;  // kept across responses: it may hold bytes of the next one
  clock::time_point idle_since;
};

api_client::api_client(net::any_io_executor executor, cluster_config config)
    : executor_(std::move(executor)),
      config_(std::move(config)),
      tls_context_(make_tls_context(config_)),
      token_file_(config_.token_file.empty() ? nullptr : std::make_unique<bearer_token>(config_.token_file)),
      host_header_(make_host_header(config_)),
      user_agent_(std::string("longhorn-uninstall-guard/") + lug::version) {}

api_client::~api_client() = default;

std::unique_ptr<api_client::connection> api_client::take_idle() {
  const auto now = clock::now();
  std::unique_ptr<connection> conn;
  std::vector<std::unique_ptr<connection>> expired;  // closed outside the lock
  {
    std::lock_guard lock(idle_mutex_);
    while (!idle_.empty() && !conn) {
      auto candidate = std::move(idle_.back());
      idle_.pop_back();
      if (now - candidate->idle_since < max_idle_time) {
        conn = std::move(candidate);
      } else {
        expired.push_back(std::move(candidate));
      }
    }
  }
  return conn;
}

void api_client::give_back(std::unique_ptr<connection> conn) {
  conn->idle_since = clock::now();
  beast::get_lowest_layer(conn->stream).expires_never();
  std::lock_guard lock(idle_mutex_);
  if (idle_.size() < max_idle_connections) idle_.push_back(std::move(conn));
}

net::awaitable<api_result> api_client::get(std::string path_and_query, clock::time_point deadline) {
  const auto started = clock::now();
  try {
    co_return co_await get_with_retry(config_.path_prefix + path_and_query, started, deadline);
  } catch (const boost::system::system_error& e) {
    // Asio throws operation_aborted at the next co_await once the caller was cancelled.
    if (e.code() == net::error::operation_aborted) {
      co_return cancelled_failure(config_.host_port());
    }
    co_return failure(failure_kind::protocol, "request to " + config_.server_url() + " failed: " + e.code().message());
  } catch (const std::exception& e) {
    co_return failure(failure_kind::protocol, "request to " + config_.server_url() + " failed: " + e.what());
  }
}

net::awaitable<api_result> api_client::get_with_retry(std::string target, clock::time_point started,
                                                      clock::time_point deadline) {
  const std::string server = config_.host_port();
  if (clock::now() >= deadline) co_return timeout_failure(server, deadline - started, phase::connect);

  http::request<http::empty_body> request{http::verb::get, target, 11};
  request.set(http::field::host, host_header_);
  request.set(http::field::user_agent, user_agent_);
  request.set(http::field::accept, "application/json");
  request.keep_alive(true);
  if (token_file_) {
    auto token = token_file_->current();
    if (!token) co_return failure(failure_kind::credentials, std::move(token).error());
    request.set(http::field::authorization, "Bearer " + *token);
  } else if (!config_.token.empty()) {
    request.set(http::field::authorization, "Bearer " + config_.token);
  }

  for (int attempt = 0;; ++attempt) {
    // Only the first attempt may take a pooled connection: the retry exists because a
    // pooled one turned out to be stale.
    std::unique_ptr<connection> conn = attempt == 0 ? take_idle() : nullptr;
    const bool reused = conn != nullptr;
    if (!conn) {
      auto opened = co_await open(started, deadline);
      if (!opened) co_return unexpected(std::move(opened).error());
      conn = std::move(opened).value();
    }

    auto exchanged = co_await exchange(conn->stream, conn->buffer, request, deadline);
    if (exchanged.response) {
      log::debug("kube api response", {{"path", target}, {"status", exchanged.response->status},
                                       {"reused_connection", reused},
                                       {"ms", std::chrono::duration_cast<std::chrono::milliseconds>(
                                                  clock::now() - started).count()}});
      if (exchanged.keep_alive) give_back(std::move(conn));
      co_return std::move(*exchanged.response);
    }
    if (co_await cancelled()) {
      co_return cancelled_failure(server);
    }
    if (exchanged.error == beast::error::timeout || clock::now() >= deadline) {
      co_return timeout_failure(server, deadline - started, exchanged.failed_in);
    }
    if (reused && attempt == 0 && !exchanged.got_response_bytes) {
      log::debug("pooled connection to the API server was stale; retrying on a new one",
                 {{"path", target}, {"error", explain(exchanged.error)}});
      continue;
    }
    if (exchanged.error == http::error::body_limit) {
      co_return failure(failure_kind::protocol, "the response from " + server + " to GET " + target +
                                                    " is larger than " + std::to_string(max_response_body) + " bytes");
    }
    if (exchanged.got_response_bytes) {
      co_return failure(failure_kind::protocol,
                        "the response from " + server + " was cut off: " + explain(exchanged.error));
    }
    if (is_connection_loss(exchanged.error)) {
      co_return failure(failure_kind::unreachable, "connection to " + server + " lost while " +
                                                       std::string(doing(exchanged.failed_in)) + ": " +
                                                       explain(exchanged.error));
    }
    co_return failure(failure_kind::protocol, "invalid HTTP exchange with " + server + " while " +
                                                  std::string(doing(exchanged.failed_in)) + ": " + explain(exchanged.error));
  }
}

net::awaitable<result<std::unique_ptr<api_client::connection>, transport_failure>> api_client::open(
    clock::time_point started, clock::time_point deadline) {
  using namespace net::experimental::awaitable_operators;
  const std::string server = config_.host_port();
  const auto timed_out = [&](phase p) { return timeout_failure(server, deadline - started, p); };

  auto conn = std::make_unique<connection>(executor_, tls_context_);
  if (auto prepared = prepare_tls_session(conn->stream.native_handle(), config_); !prepared) {
    co_return failure(failure_kind::tls, std::move(prepared).error());
  }

  tcp::resolver::results_type endpoints;
  if (is_ip_literal(config_.host)) {
    endpoints = tcp::resolver::results_type::create(tcp::endpoint(net::ip::make_address(config_.host), config_.port),
                                                    config_.host, std::to_string(config_.port));
  } else {
    // getaddrinfo has no timeout of its own: race it against the deadline.
    tcp::resolver resolver(executor_);
    net::steady_timer timer(executor_, deadline);
    auto raced = co_await (resolver.async_resolve(config_.host, std::to_string(config_.port), awaitable_tuple) ||
                           timer.async_wait(awaitable_tuple));
    if (co_await cancelled()) co_return cancelled_failure(server);
    if (raced.index() == 1) co_return timed_out(phase::resolve);
    auto& [resolve_error, results] = std::get<0>(raced);
    if (resolve_error) {
      co_return failure(failure_kind::unreachable,
                        "cannot resolve the API server's name " + config_.host + ": " + resolve_error.message());
    }
    endpoints = std::move(results);
  }

  auto& tcp_layer = beast::get_lowest_layer(conn->stream);
  tcp_layer.expires_at(deadline);
  auto [connect_error, endpoint] = co_await tcp_layer.async_connect(endpoints, awaitable_tuple);
  if (connect_error) {
    if (co_await cancelled()) co_return cancelled_failure(server);
    if (connect_error == beast::error::timeout || clock::now() >= deadline) co_return timed_out(phase::connect);
    co_return failure(failure_kind::unreachable,
                      "cannot connect to the API server at " + server + ": " + connect_error.message());
  }

  auto [handshake_error] = co_await conn->stream.async_handshake(net::ssl::stream_base::client, awaitable_tuple);
  if (handshake_error) {
    if (co_await cancelled()) co_return cancelled_failure(server);
    if (handshake_error == beast::error::timeout || clock::now() >= deadline) co_return timed_out(phase::handshake);
    co_return failure(failure_kind::tls, describe_tls_failure(handshake_error, conn->stream.native_handle(), config_));
  }
  co_return std::move(conn);
}

}  // namespace lug::kube
