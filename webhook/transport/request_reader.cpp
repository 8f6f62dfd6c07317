#include "transport/request_reader.hpp"

#include <string>

#include "transport/error_response.hpp"

namespace lug::transport {

bool is_http_syntax_error(const boost::beast::error_code& ec) {
  return ec.category() == http::make_error_code(http::error::bad_target).category();
}

std::optional<response> answer_for_read_error(const boost::beast::error_code& ec) {
  if (ec == http::error::body_limit) {
    return error_response(http::status::payload_too_large,
                          "request body is larger than the limit of " + std::to_string(limits::max_body_bytes) +
                              " bytes; an AdmissionReview for a pod is far smaller, check what is calling this endpoint");
  }
  if (ec == http::error::header_limit) {
    return error_response(http::status::request_header_fields_too_large,
                          "request headers are larger than the limit of " + std::to_string(limits::max_header_bytes) +
                              " bytes");
  }
  if (ec.category() == framing_category()) {
    const auto status = ec == framing_error::unimplemented_coding ? http::status::not_implemented : http::status::bad_request;
    return error_response(status, "cannot read the request body: " + ec.message());
  }
  // A stream that ends before or inside a request is a peer that left, not a bad request.
  if (is_http_syntax_error(ec) && ec != http::error::end_of_stream && ec != http::error::partial_message) {
    return error_response(http::status::bad_request, "malformed HTTP request: " + ec.message());
  }
  return std::nullopt;
}

std::size_t header_block_bytes(const request& msg) {
  constexpr std::size_t request_line_overhead = sizeof(" HTTP/1.1\r\n") + 1;
  constexpr std::size_t field_overhead = sizeof(": \r\n") - 1;
  std::size_t total = msg.method_string().size() + msg.target().size() + request_line_overhead;
  for (const auto& field : msg) total += field.name_string().size() + field.value().size() + field_overhead;
  return total;
}

}  // namespace lug::transport
