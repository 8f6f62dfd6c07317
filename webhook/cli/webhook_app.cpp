#include "cli/webhook_app.hpp"

#include <csignal>
#include <thread>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>

#include "admission/http_endpoint.hpp"
#include "cli/flags.hpp"
#include "cli/listen_address.hpp"
#include "guard/mutator.hpp"
#include "guard/validator.hpp"
#include "kube/api_client.hpp"
#include "support/duration.hpp"
#include "support/log.hpp"
#include "support/version.hpp"
#include "transport/error_response.hpp"
#include "transport/router.hpp"
#include "transport/server.hpp"

namespace lug::cli {
namespace {

namespace net = boost::asio;
namespace http = transport::http;

transport::response text_response(http::status status, std::string body) {
  transport::response res{status, 11};
  res.set(http::field::content_type, "text/plain; charset=utf-8");
  res.body() = std::move(body);
  return res;
}

unsigned worker_threads() {
  const unsigned cores = std::thread::hardware_concurrency();
  return cores == 0 ? 1 : cores;
}

void add_probe_routes(transport::router& routes, const transport::certificate_store& certificates) {
  // Liveness: the process answers HTTP. Nothing else, so that a slow API server never
  // gets the guard restarted.
  routes.add(http::verb::get, "/healthz",
             [](const transport::request&, const transport::request_context&) -> net::awaitable<transport::response> {
               co_return text_response(http::status::ok, "ok\n");
             });
  // Readiness: a serving certificate is loaded.
  routes.add(http::verb::get, "/readyz",
             [&certificates](const transport::request&,
                             const transport::request_context&) -> net::awaitable<transport::response> {
               if (!certificates.current()) {
                 co_return text_response(http::status::service_unavailable, "no serving certificate loaded\n");
               }
               co_return text_response(http::status::ok, "ok\n");
             });
  routes.add(http::verb::get, "/metrics",
             [](const transport::request& req, const transport::request_context&) -> net::awaitable<transport::response> {
               co_return transport::error_response(http::status::not_implemented,
                                                   "metrics are not implemented in this version", req.version());
             });
}

}  // namespace

int run_webhook(const webhook_settings& settings) {
  transport::certificate_store certificates(settings.tls);

  net::io_context io;
  kube::api_client client(io.get_executor(), settings.cluster);
  guard::setting_reader reader(client, settings.setting);
  guard::setting_reads fresh_reads(
      io.get_executor(),
      [&reader](std::chrono::steady_clock::time_point deadline) {
        return reader.read(guard::read_mode::fresh, deadline);
      },
      std::chrono::duration_cast<std::chrono::steady_clock::duration>(guard::max_read_time));
  guard::validator validating(settings.job, settings.setting, settings.hold, fresh_reads);
  guard::mutator mutating(settings.job, settings.init_container);

  transport::router routes;
  routes.add(http::verb::post, "/validate", admission::make_review_endpoint("validate", validating));
  routes.add(http::verb::post, "/mutate", admission::make_review_endpoint("mutate", mutating));
  add_probe_routes(routes, certificates);

  transport::server server(io.get_executor(), settings.listen, certificates, routes);
  server.start();
  log::info("listening", {{"address", describe_endpoint(server.local_endpoint())},
                          {"version", lug::version},
                          {"api_server", settings.cluster.server_url()},
                          {"credentials_from", settings.cluster.source},
                          {"namespace", settings.job.namespace_name},
                          {"job", settings.job.job_name},
                          {"setting", settings.setting.name},
                          {"poll_interval", format_duration(settings.hold.poll_interval)},
                          {"max_hold", format_duration(settings.hold.max_hold)},
                          {"init_image", settings.init_container.image}});

  net::signal_set signals(io, SIGTERM, SIGINT);
  net::steady_timer grace(io);
  signals.async_wait([&](const boost::system::error_code& ec, int signal) {
    if (ec) return;
    log::info("shutting down", {{"signal", signal == SIGTERM ? "SIGTERM" : "SIGINT"},
                                {"grace", format_duration(settings.shutdown_grace)},
                                {"held", validating.held()}});
    grace.expires_after(std::chrono::duration_cast<std::chrono::steady_clock::duration>(settings.shutdown_grace));
    grace.async_wait([&](const boost::system::error_code& timer_ec) {
      if (timer_ec) return;
      log::warn("grace period over; closing remaining connections", {{"open", server.open_connections()}});
      server.force_close();
      io.stop();
    });
    // Held requests are answered now (denied; the Job retries against another replica).
    fresh_reads.close();
    server.drain([&] { net::post(io, [&] { io.stop(); }); });
  });

  std::vector<std::jthread> workers;
  const unsigned threads = worker_threads();
  for (unsigned i = 1; i < threads; ++i) workers.emplace_back([&io] { io.run(); });
  io.run();
  io.stop();
  workers.clear();  // joins
  log::info("stopped");
  return exit_ok;
}

}  // namespace lug::cli
