// What an admission policy implements: given a decoded request, a decision. The
// pipeline around it (admission/http_endpoint) owns HTTP, decoding, encoding and the
// log line, so a policy is plain logic that unit tests can call directly.
#pragma once

#include <chrono>
#include <optional>
#include <string_view>

#include <boost/asio/awaitable.hpp>

#include "admission/response.hpp"
#include "admission/review.hpp"
#include "transport/http_types.hpp"

namespace lug::admission {

struct review_context {
  std::string_view endpoint;                           // "validate" or "mutate"
  std::chrono::steady_clock::time_point received;      // when the whole request had arrived
  std::optional<std::chrono::nanoseconds> api_timeout;  // the API server's ?timeout, when given
  transport::client_presence* client = nullptr;         // the connection to ask; null in tests

  // Whether the API server has gone away (its request cancelled, or it restarted): a
  // policy that takes long asks now and then and gives up with abandoned().
  bool client_gone() const { return client != nullptr && client->gone(); }
};

class review_handler {
 public:
  virtual ~review_handler() = default;
  virtual boost::asio::awaitable<admission_response> review(const admission_request& request,
                                                            const review_context& context) = 0;
  // Whether review() reads request.object, so the pipeline must build its DOM first
  // (decode_object). Asked after decode_review; most requests are decided without it.
  virtual bool wants_object(const admission_request&) const { return false; }
};

}  // namespace lug::admission
