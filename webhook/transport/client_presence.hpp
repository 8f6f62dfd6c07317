// Noticing, while a handler runs, that the client of a connection has gone: a FIN, a
// reset, or (over TLS) a close_notify. Asked on the connection's strand while no read or
// write is in flight on it, which is the case for as long as the handler runs.
//
// A peek at the socket tells FIN (0 bytes) and reset (an error) from "nothing to read"
// without consuming anything. Bytes waiting on a TLS connection may be a close_notify, so
// they are read without blocking: an alert ends the read with an error, and any request
// bytes a pipelining client sent are kept in the connection's buffer for the next read.
#pragma once

#include <sys/socket.h>
#include <sys/types.h>

#include <cerrno>

#include <boost/asio/error.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/stream_traits.hpp>

#include "transport/http_types.hpp"
#include "transport/request_reader.hpp"

namespace lug::transport {

template <typename Stream>
class stream_presence final : public client_presence {
 public:
  stream_presence(Stream& stream, boost::beast::flat_buffer& buffer) : stream_(stream), buffer_(buffer) {}

  bool gone() override {
    if (!gone_) gone_ = look();
    return gone_;
  }

  // What the last look found, without looking again.
  bool known_gone() const { return gone_; }

 private:
  // A stream layered on another (TLS on TCP) has records to look into; a bare one does not.
  static constexpr bool over_tls = requires(Stream& s) { s.next_layer(); };

  bool look() {
    auto& socket = boost::beast::get_lowest_layer(stream_).socket();
    char byte = 0;
    const auto n = ::recv(socket.native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    if (n == 0) return true;  // FIN
    if (n < 0) return errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR;  // a reset, or the socket is dead
    if constexpr (over_tls) {
      return read_waiting_records();
    } else {
      return false;  // plain HTTP: the bytes are the next request
    }
  }

  // Reads what TLS records are waiting, without blocking. Room for them is needed in the
  // connection's buffer; a client that filled it is still there.
  bool read_waiting_records() {
    if (buffer_.size() + first_read_bytes > buffer_.max_size()) return false;
    auto& socket = boost::beast::get_lowest_layer(stream_).socket();
    boost::system::error_code ec;
    socket.non_blocking(true, ec);
    if (ec) return false;
    const auto n = stream_.read_some(buffer_.prepare(first_read_bytes), ec);
    boost::system::error_code ignored;
    socket.non_blocking(false, ignored);
    buffer_.commit(n);
    if (!ec || ec == boost::asio::error::would_block || ec == boost::asio::error::try_again) return false;
    // boost::asio::error::eof is a close_notify; ssl::error::stream_truncated a FIN without one.
    return true;
  }

  Stream& stream_;
  boost::beast::flat_buffer& buffer_;
  bool gone_ = false;
};

}  // namespace lug::transport
