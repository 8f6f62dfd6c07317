#include "admission/response.hpp"

#include <nlohmann/json.hpp>

#include "admission/base64.hpp"

namespace lug::admission {

admission_response allowed(std::string log_reason) {
  admission_response r;
  r.log_reason = std::move(log_reason);
  return r;
}

admission_response denied(int code, std::string reason, std::string message, std::string log_reason) {
  admission_response r;
  r.allowed = false;
  r.status = admission_status{code, std::move(reason), std::move(message)};
  r.log_reason = std::move(log_reason);
  return r;
}

admission_response errored(std::string message) {
  std::string log_reason = "internal error: " + message;
  return denied(500, "InternalError", std::move(message), std::move(log_reason));
}

admission_response patched(const json_patch& patch, std::string log_reason) {
  admission_response r = allowed(std::move(log_reason));
  if (!patch.empty()) r.patch = patch.dump();
  return r;
}

admission_response with_warning(admission_response response, std::string warning) {
  response.warnings.push_back(std::move(warning));
  return response;
}

std::string encode_review(std::string_view api_version, std::string_view uid, const admission_response& response) {
  nlohmann::ordered_json body = {{"uid", uid}, {"allowed", response.allowed}};
  if (response.status) {
    body["status"] = {{"code", response.status->code},
                      {"reason", response.status->reason},
                      {"message", response.status->message}};
  }
  if (response.patch) {
    body["patchType"] = "JSONPatch";
    body["patch"] = base64_encode(*response.patch);
  }
  if (!response.warnings.empty()) body["warnings"] = response.warnings;
  const nlohmann::ordered_json review = {{"apiVersion", api_version}, {"kind", "AdmissionReview"}, {"response", std::move(body)}};
  // A uid or message carrying invalid UTF-8 must not make encoding throw.
  return review.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace lug::admission
