#include "admission/response.hpp"

#include "admission/base64.hpp"
#include "support/json_text.hpp"
#include "support/status_reason.hpp"

namespace lug::admission {

std::string_view to_string(review_outcome outcome) {
  switch (outcome) {
    case review_outcome::allowed: return "allowed";
    case review_outcome::patched: return "patched";
    case review_outcome::denied: return "denied";
    case review_outcome::errored: return "errored";
    case review_outcome::rejected: return "rejected";
    case review_outcome::abandoned: return "abandoned";
  }
  return "unknown";
}

admission_response allowed(std::string log_reason) {
  admission_response r;
  r.log_reason = std::move(log_reason);
  return r;
}

admission_response denied(int code, std::string message, std::string log_reason) {
  admission_response r;
  r.outcome = review_outcome::denied;
  r.status = admission_status{code, std::string(status_reason(static_cast<unsigned>(code))), std::move(message)};
  r.log_reason = std::move(log_reason);
  return r;
}

admission_response errored(std::string message) {
  std::string log_reason = "internal error: " + message;
  auto response = denied(500, std::move(message), std::move(log_reason));
  response.outcome = review_outcome::errored;
  return response;
}

admission_response patched(const json_patch& patch, std::string log_reason) {
  admission_response r = allowed(std::move(log_reason));
  if (!patch.empty()) {
    r.patch = patch.dump();
    r.outcome = review_outcome::patched;
  }
  return r;
}

admission_response with_warning(admission_response response, std::string warning) {
  response.warnings.push_back(std::move(warning));
  return response;
}

admission_response abandoned(std::string log_reason) {
  // Denied, should it ever be sent: a decision nobody reached must never admit.
  auto response = denied(503, "the request was abandoned before a decision", std::move(log_reason));
  response.outcome = review_outcome::abandoned;
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
  out += response.allowed() ? R"(,"allowed":true)" : R"(,"allowed":false)";
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
