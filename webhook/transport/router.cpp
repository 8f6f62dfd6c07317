#include "transport/router.hpp"

#include "support/log.hpp"
#include "transport/error_response.hpp"

namespace lug::transport {

void router::add(http::verb method, std::string path, handler h) {
  routes_.push_back({method, std::move(path), std::move(h)});
}

std::string router::endpoints() const {
  std::string list;
  for (const auto& r : routes_) {
    if (!list.empty()) list += ", ";
    list += std::string(http::to_string(r.method)) + " " + r.path;
  }
  return list;
}

boost::asio::awaitable<response> router::dispatch(const request& req, const request_context& ctx) const {
  const auto path = target_path(req.target());
  // HEAD is answered as GET (the transport sends the headers alone), wherever GET is.
  const auto method = req.method() == http::verb::head ? http::verb::get : req.method();
  std::string allowed;
  for (const auto& r : routes_) {
    if (r.path != path) continue;
    if (r.method == method) co_return co_await r.handle(req, ctx);
    if (!allowed.empty()) allowed += ", ";
    allowed += http::to_string(r.method);
    if (r.method == http::verb::get) allowed += ", HEAD";
  }
  if (allowed.empty()) {
    const std::string message =
        "no such endpoint: " + std::string(path) + "; this port answers " + endpoints();
    log::warn("request rejected", {{"status", 404}, {"message", message}, {"peer", ctx.peer}});
    co_return error_response(http::status::not_found, message, req.version());
  }
  const std::string message = "method " + std::string(req.method_string()) + " is not allowed on " +
                              std::string(path) + "; use " + allowed;
  log::warn("request rejected", {{"status", 405}, {"message", message}, {"peer", ctx.peer}});
  auto res = error_response(http::status::method_not_allowed, message, req.version());
  res.set(http::field::allow, allowed);
  co_return res;
}

}  // namespace lug::transport
