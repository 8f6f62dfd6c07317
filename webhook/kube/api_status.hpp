// What the API server said when it refused a request.
//
// Non-2xx responses from the API server carry a metav1.Status object:
//   {"kind":"Status","status":"Failure","message":"settings.longhorn.io \"x\" not found",
//    "reason":"NotFound","details":{"name":"x","group":"longhorn.io","kind":"settings"},"code":404}
// parse_api_status() extracts it. Anything in between (a load balancer, an aggregation
// proxy, a misconfigured path prefix) may instead answer with HTML or plain text; then the
// message is a trimmed, single-line excerpt of that body and the reason is the one the
// API server would use for the HTTP status, so callers always get something to show.
#pragma once

#include <string>
#include <string_view>

namespace lug::kube {

struct api_status {
  std::string message;       // never empty
  std::string reason;        // "NotFound", "Forbidden", ...; from the status code when the body has none
  unsigned code = 0;         // the Status code, else the HTTP status
  std::string details_kind;  // resource (plural) the failure is about, when the server said
  std::string details_name;  // object name the failure is about; empty for "no such resource type"
  bool from_status_object = false;  // the body was a metav1.Status
};

api_status parse_api_status(unsigned http_status, std::string_view body);

}  // namespace lug::kube
