// The HTTP vocabulary shared by the transport and whoever handles requests: Beast's
// string-bodied messages, plus what the transport knows about a request beyond its bytes.
#pragma once

#include <chrono>
#include <functional>
#include <string>

#include <boost/asio/awaitable.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

namespace lug::transport {

namespace http = boost::beast::http;

using request = http::request<http::string_body>;
using response = http::response<http::string_body>;

// Whether the client of a request in progress is still there. A handler that runs long
// (a held admission) asks now and then, so that it stops working for a client that has
// gone; asking costs a system call, so the transport never asks on its own.
class client_presence {
 public:
  // True once the client closed or reset the connection (or, over TLS, sent close_notify).
  virtual bool gone() = 0;

 protected:
  ~client_presence() = default;
};

struct request_context {
  std::string peer;                                // "address:port" of the client, for logs
  std::chrono::steady_clock::time_point received;  // when the whole request had arrived
  client_presence* client = nullptr;               // null when there is no connection to ask

  bool client_gone() const { return client != nullptr && client->gone(); }
};

// A route's handler. It may suspend (a held admission does), but must always produce a
// response; exceptions are turned into a 500 by the session.
using handler = std::function<boost::asio::awaitable<response>(const request&, const request_context&)>;

// The path of a request target, without the query string.
std::string_view target_path(std::string_view target);
// The raw value of a query parameter, or empty when absent.
std::string_view query_parameter(std::string_view target, std::string_view name);

}  // namespace lug::transport
