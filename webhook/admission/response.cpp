#include "admission/response.hpp"

#include "admission/base64.hpp"
#include "support/json_text.hpp"

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

admission_response abandoned(std::string log_reason) {
  // Denied, should it ever be sent: a decision nobody reached must never admit.
  auto response = denied(503, "ServiceUnavailable", "the request was abandoned before a decision", std::move(log_reason));
  response.abandoned = true;
  return response;
}

std::string encode_review(std::string_view api_version, std::string_view uid, const admission_response& response) {
  // Written directly rather than through a DOM: this runs for every request. Strings go
  // through append_json_string, so a uid or message with invalid UTF-8 cannot break it.
  std::string out;
  out.reserve(160 + uid.size() + (response.status ? response.status->message.size() : 0) +
              (response.patch ? response.patch->size() * 4 / 3 + 4 : 0));
  out += R"({"apiVersion":)";
  append_json_string(out, api_version);
  out += R"(,"kind":"AdmissionReview","response":{"uid":)";
  append_json_string(out, uid);
  out += response.allowed ? R"(,"allowed":true)" : R"(,"allowed":false)";
  if (response.status) {
    out += R"(,"status":{"code":)";
    out += std::to_string(response.status->code);
    out += R"(,"reason":)";
    append_json_string(out, response.status->reason);
    out += R"(,"message":)";
    append_json_string(out, response.status->message);
    out += '}';
  }
  if (response.patch) {
    out += R"(,"patchType":"JSONPatch","patch":")";
    out += base64_encode(*response.patch);  // base64 needs no escaping
    out += '"';
  }
  if (!response.warnings.empty()) {
    out += R"(,"warnings":[)";
    for (std::size_t i = 0; i < response.warnings.size(); ++i) {
      if (i > 0) out += ',';
      append_json_string(out, response.warnings[i]);
    }
    out += ']';
  }
  out += "}}";
  return out;
}

}  // namespace lug::admission
