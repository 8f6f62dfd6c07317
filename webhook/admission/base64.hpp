// Standard base64 (RFC 4648, with padding), as the AdmissionReview `patch` field wants it.
#pragma once

#include <string>
#include <string_view>

namespace lug::admission {

std::string base64_encode(std::string_view bytes);

}  // namespace lug::admission
