// Reading one HTTP/1.1 request from a connection, with the server's limits: a fresh
// request_parser per message (Beast issue 2715) with the header and body limits, the
// header first, `100 Continue` when the client waits for it, then the body. A request
// that cannot be read becomes the answer to send instead (400, 413, 431, 501), after which the
// connection closes; a peer that went away or stalled gets no answer.
//
// Shared by the server's connection loop and the HTTP fuzz target, so that what is fuzzed
// is how the server reads. A stream whose lowest layer has expires_after() (Beast's
// tcp_stream) gets the timeouts of transport/limits.hpp; one without (a test stream) none.
#pragma once

#include <cstdint>
#include <optional>
#include <utility>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/stream_traits.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>

#include "support/result.hpp"
#include "transport/http_types.hpp"
#include "transport/limits.hpp"
#include "transport/transfer_coding.hpp"

namespace lug::transport {

// Read buffer per connection: must hold a whole header block (limits::max_header_bytes)
// plus whatever a pipelining client sent after it; the body itself is moved out of it.
inline constexpr std::size_t read_buffer_bytes = 64 * 1024;

// What a wait for a request's first bytes reserves. One read of a TLS stream returns at
// most one record's plaintext, 16 KiB, so reserving more only costs memory on every
// connection, held ones included; the buffer still grows up to read_buffer_bytes when a
// header block needs it.
inline constexpr std::size_t first_read_bytes = 16 * 1024;

// Why no request came out of a read. `answer` is set when the client deserves one (its
// bytes were not a request we accept); it is sent with Connection: close.
struct read_failure {
  boost::beast::error_code error;
  std::optional<response> answer;
};

using read_result = result<request, read_failure>;

// The answer to a request that could not be read; none when the peer is gone or silent.
std::optional<response> answer_for_read_error(const boost::beast::error_code& ec);

// Whether an error means the bytes received are not valid HTTP (Beast's http category).
bool is_http_syntax_error(const boost::beast::error_code& ec);

// Size of a parsed header block as it was sent. Beast's header_limit only fires while the
// header is still incomplete in the buffer, so a block that arrives whole in one read can
// exceed it; this catches that case.
std::size_t header_block_bytes(const request& msg);

namespace detail {

template <typename Stream>
void arm_timeout(Stream& stream, std::chrono::steady_clock::duration timeout) {
  auto& lowest = boost::beast::get_lowest_layer(stream);
  if constexpr (requires { lowest.expires_after(timeout); }) lowest.expires_after(timeout);
}

}  // namespace detail

// Reads the next request from `stream`, starting with what `buffer` already holds; the
// bytes after it (pipelining) stay in `buffer`.
template <typename Stream>
boost::asio::awaitable<read_result> read_request(Stream& stream, boost::beast::flat_buffer& buffer) {
  constexpr auto use_tuple = boost::asio::as_tuple(boost::asio::use_awaitable);
  http::request_parser<http::string_body> parser;  // fresh per message (Beast issue 2715)
  parser.header_limit(static_cast<std::uint32_t>(limits::max_header_bytes));
  parser.body_limit(limits::max_body_bytes);

  detail::arm_timeout(stream, limits::header_timeout);
  auto [header_ec, header_n] = co_await http::async_read_header(stream, buffer, parser, use_tuple);
  boost::beast::error_code ec = header_ec;
  if (!ec && header_block_bytes(parser.get()) > limits::max_header_bytes) ec = http::error::header_limit;
  if (!ec) ec = check_transfer_encoding(parser.get());  // before any body byte is read
  if (!ec && !parser.is_done()) {
    if (boost::beast::iequals(parser.get()[http::field::expect], "100-continue")) {
      http::response<http::empty_body> go_on{http::status::continue_, parser.get().version()};
      detail::arm_timeout(stream, limits::write_timeout);
      auto [continue_ec, continue_n] = co_await http::async_write(stream, go_on, use_tuple);
      ec = continue_ec;
    }
    if (!ec) {
      detail::arm_timeout(stream, limits::body_timeout);
      auto [body_ec, body_n] = co_await http::async_read(stream, buffer, parser, use_tuple);
      ec = body_ec;
    }
  }
  if (ec) co_return unexpected(read_failure{ec, answer_for_read_error(ec)});
  co_return parser.release();
}

}  // namespace lug::transport
