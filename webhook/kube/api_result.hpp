// The outcome of one request to the API server, as a value: either the server answered
// (any HTTP status; interpreting it is the caller's business) or it could not be asked,
// with a kind callers can branch on and a message a person can act on.
#pragma once

#include <string>
#include <string_view>

#include "support/result.hpp"

namespace lug::kube {

struct api_response {
  unsigned status = 0;  // HTTP status
  std::string body;
};

enum class failure_kind {
  timeout,      // the caller's deadline passed before the response was complete
  unreachable,  // name not resolved, connection refused/reset, no route
  tls,          // handshake failed, including a server certificate we do not trust
  protocol,     // not HTTP/1.1 as we know it, a body over the cap, a connection cut mid-response
  credentials,  // our own credentials could not be read (token file gone or empty)
  cancelled,    // the caller's coroutine was cancelled
};

struct transport_failure {
  failure_kind kind = failure_kind::protocol;
  std::string message;  // names the server and what failed, e.g. "connect to 10.96.0.1:443: Connection refused"
};

using api_result = result<api_response, transport_failure>;

constexpr std::string_view to_string(failure_kind kind) {
  switch (kind) {
    case failure_kind::timeout: return "timeout";
    case failure_kind::unreachable: return "unreachable";
    case failure_kind::tls: return "tls";
    case failure_kind::protocol: return "protocol";
    case failure_kind::credentials: return "credentials";
    case failure_kind::cancelled: return "cancelled";
  }
  return "unknown";
}

}  // namespace lug::kube
