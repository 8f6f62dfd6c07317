#include "transport/error_response.hpp"

#include <nlohmann/json.hpp>

#include "support/status_reason.hpp"

namespace lug::transport {

std::string status_body(http::status status, std::string_view message) {
  const nlohmann::ordered_json body = {
      {"kind", "Status"},
      {"apiVersion", "v1"},
      {"metadata", nlohmann::json::object()},
      {"status", "Failure"},
      {"message", message},
      {"reason", status_reason(static_cast<unsigned>(status))},
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
