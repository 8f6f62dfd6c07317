#include "admission/http_endpoint.hpp"

#include <boost/beast/core/string.hpp>

#include "support/duration.hpp"
#include "support/log.hpp"
#include "transport/error_response.hpp"

namespace lug::admission {
namespace {

namespace http = transport::http;
using transport::error_response;

std::chrono::nanoseconds time_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::steady_clock::now() - start;
}

transport::response reject(const transport::request& req, const transport::request_context& ctx,
                           std::string_view endpoint, review_observer& observer, http::status status,
                           const std::string& message) {
  log::warn("request rejected",
            {{"status", static_cast<unsigned>(status)}, {"message", message}, {"endpoint", endpoint}, {"peer", ctx.peer}});
  observer.reviewed(review_outcome::rejected, time_since(ctx.received));
  return error_response(status, message, req.version());
}

}  // namespace

bool is_json_content_type(std::string_view content_type) {
  const auto semicolon = content_type.find(';');
  std::string_view media_type = content_type.substr(0, semicolon);
  while (!media_type.empty() && media_type.back() == ' ') media_type.remove_suffix(1);
  while (!media_type.empty() && media_type.front() == ' ') media_type.remove_prefix(1);
  return boost::beast::iequals(media_type, "application/json");
}

transport::handler make_review_endpoint(std::string endpoint, review_handler& handler, review_observer& observer) {
  return [endpoint = std::move(endpoint), &handler, &observer](const transport::request& req,
                                                               const transport::request_context& ctx)
             -> boost::asio::awaitable<transport::response> {
    const auto content_type = req[http::field::content_type];
    if (!is_json_content_type(content_type)) {
      co_return reject(req, ctx, endpoint, observer, http::status::unsupported_media_type,
                       "Content-Type must be application/json, got \"" + std::string(content_type) + "\"");
    }
    auto decoded = decode_review(req.body());
    if (!decoded) co_return reject(req, ctx, endpoint, observer, http::status::bad_request, decoded.error().message);
    auto& request = *decoded;
    if (handler.wants_object(request)) {
      if (const auto filled = decode_object(req.body(), request); !filled) {
        co_return reject(req, ctx, endpoint, observer, http::status::bad_request, filled.error().message);
      }
    }

    review_context context{endpoint, ctx.received, std::nullopt, ctx.client};
    if (const auto timeout = transport::query_parameter(req.target(), "timeout"); !timeout.empty()) {
      context.api_timeout = parse_duration(timeout);  // unparsable: treated as absent
    }

    admission_response decision;
    try {
      decision = co_await handler.review(request, context);
    } catch (const std::exception& e) {
      decision = errored(std::string("the webhook failed to decide: ") + e.what());
    }

    const auto latency = time_since(ctx.received);
    observer.reviewed(decision.outcome, latency);
    log::info("admission", {{"uid", request.uid},
                            {"operation", request.operation},
                            {"kind", request.kind},
                            {"namespace", request.namespace_name},
                            {"name", request.display_name()},
                            {"endpoint", endpoint},
                            {"decision", decision.abandoned() ? "abandoned" : decision.allowed() ? "allowed" : "denied"},
                            {"patched", decision.patch.has_value()},
                            {"reason", decision.log_reason},
                            {"dry_run", request.dry_run},
                            {"duration_ms", std::chrono::duration<double, std::milli>(latency).count()}});

    transport::response res{http::status::ok, req.version()};
    res.set(http::field::content_type, "application/json");
    res.body() = encode_review(request.review_api_version, request.uid, decision);
    co_return res;
  };
}

}  // namespace lug::admission
