#include "transport/error_response.hpp"

#include <nlohmann/json.hpp>

namespace lug::transport {

std::string_view status_reason(http::status status) {
  switch (status) {
    case http::status::bad_request: return "BadRequest";
    case http::status::unauthorized: return "Unauthorized";
    case http::status::forbidden: return "Forbidden";
    case http::status::not_found: return "NotFound";
    case http::status::method_not_allowed: return "MethodNotAllowed";
    case http::status::request_timeout: return "Timeout";
    case http::status::payload_too_large: return "RequestEntityTooLarge";
    case http::status::unsupported_media_type: return "UnsupportedMediaType";
    case http::status::request_header_fields_too_large: return "RequestHeaderFieldsTooLarge";
    case http::status::too_many_requests: return "TooManyRequests";
    case http::status::not_implemented: return "NotImplemented";
    case http::status::service_unavailable: return "ServiceUnavailable";
    default: return "InternalError";
  }
}

std::string status_body(http::status status, std::string_view message) {
  const nlohmann::ordered_json body = {
      {"kind", "Status"},
      {"apiVersion", "v1"},
      {"metadata", nlohmann::json::object()},
      {"status", "Failure"},
      {"message", message},
      {"reason", status_reason(status)},
      {"code", static_cast<unsigned>(status)},
  };
  return body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

response error_response(http::status status, std::string_view message, unsigned http_version) {
  response res{status, http_version};
  res.set(http::field::content_type, "application/json");
  res.body() = status_body(status, message);
  res.prepare_payload();
  return res;
}

}  // namespace lug::transport
