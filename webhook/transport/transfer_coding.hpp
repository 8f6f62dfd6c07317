// Request framing by Transfer-Encoding (RFC 9112 §6.1, §6.3), checked before a body is
// read. Beast takes a request whose final transfer coding is not `chunked` as having no
// body, so the body would then be parsed as the next request on the connection (request
// smuggling); and it silently ignores codings listed before `chunked`. This server
// implements `chunked` alone, so the only framings it accepts are no Transfer-Encoding
// and exactly `chunked`.
#pragma once

#include <boost/system/error_code.hpp>

#include "transport/http_types.hpp"

namespace lug::transport {

enum class framing_error {
  final_coding_not_chunked = 1,  // 400: the body's length cannot be known (§6.3, item 4)
  chunked_more_than_once,        // 400: a sender must not apply chunked twice (§7)
  unimplemented_coding,          // 501: a coding before chunked that we cannot decode (§6.1)
};

const boost::system::error_category& framing_category();
boost::system::error_code make_error_code(framing_error e);

// Empty when the request's framing is one we can read.
boost::system::error_code check_transfer_encoding(const http::request_header<>& header);

}  // namespace lug::transport

template <>
struct boost::system::is_error_code_enum<lug::transport::framing_error> : std::true_type {};
