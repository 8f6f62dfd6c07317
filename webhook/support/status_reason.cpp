#include "support/status_reason.hpp"

namespace lug {

std::string_view status_reason(unsigned http_status) {
  // From k8s.io/apimachinery/pkg/apis/meta/v1/types.go (StatusReason* and the codes their
  // comments give), plus the codes our own HTTP layer answers with (408, 431, 501).
  switch (http_status) {
    case 400: return "BadRequest";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "NotFound";
    case 405: return "MethodNotAllowed";
    case 406: return "NotAcceptable";
    case 408: return "Timeout";
    case 409: return "Conflict";
    case 410: return "Expired";
    case 413: return "RequestEntityTooLarge";
    case 415: return "UnsupportedMediaType";
    case 422: return "Invalid";
    case 429: return "TooManyRequests";
    case 431: return "RequestHeaderFieldsTooLarge";
    case 500: return "InternalError";
    case 501: return "NotImplemented";
    case 503: return "ServiceUnavailable";
    case 504: return "Timeout";
    default: return {};
  }
}

}  // namespace lug
