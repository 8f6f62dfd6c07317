// GET /metrics: the webhook's metrics in the Prometheus text format, on the same HTTPS
// port as the webhook (Prometheus scrapes it with `scheme: https`).
#pragma once

#include "metrics/webhook_metrics.hpp"
#include "transport/http_types.hpp"

namespace lug::metrics {

// `metrics` must outlive the returned handler.
transport::handler make_metrics_endpoint(const webhook_metrics& metrics);

}  // namespace lug::metrics
