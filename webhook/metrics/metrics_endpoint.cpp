#include "metrics/metrics_endpoint.hpp"

namespace lug::metrics {

transport::handler make_metrics_endpoint(const webhook_metrics& metrics) {
  return [&metrics](const transport::request& req,
                    const transport::request_context&) -> boost::asio::awaitable<transport::response> {
    transport::response res{transport::http::status::ok, req.version()};
    res.set(transport::http::field::content_type, exposition_content_type);
    res.body() = metrics.exposition();
    co_return res;
  };
}

}  // namespace lug::metrics
