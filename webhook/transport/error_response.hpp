// Error responses of the HTTP layer. Bodies are JSON shaped like a Kubernetes
// metav1.Status ({"kind":"Status",...,"message":...,"reason":...,"code":...}) because
// the clients of this server are Kubernetes components and the people reading their
// logs; the message always says what to do differently.
#pragma once

#include <string_view>

#include "transport/http_types.hpp"

namespace lug::transport {

// The JSON body alone, its reason from lug::status_reason (used for 4xx/5xx answers and in tests).
std::string status_body(http::status status, std::string_view message);

response error_response(http::status status, std::string_view message, unsigned http_version = 11);

}  // namespace lug::transport
