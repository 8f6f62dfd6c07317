#include "cli/webhook_app.hpp"

#include <csignal>
#include <optional>
#include <thread>
#include <utility>
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
#include "metrics/metrics_endpoint.hpp"
#include "metrics/webhook_metrics.hpp"
#include "support/duration.hpp"
#include "support/log.hpp"
#include "support/version.hpp"
#include "transport/certificate_watcher.hpp"
#include "transport/error_response.hpp"
#include "transport/limits.hpp"
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

// An io_context whose unfinished handlers can be destroyed early. Its destructor would do
// it too, but only after everything declared after it is gone, and a coroutine cut off
// at the end of the grace period (a held request) still refers to the validator, the
// fresh reads and the server: they must outlive its destruction.
class io_context_with_shutdown : public net::io_context {
 public:
  using net::io_context::shutdown;
};

void add_probe_routes(transport::router& routes, const transport::certificate_store& certificates) {
  // Liveness: the process answers HTTP. Nothing else, so that a slow API server never
  // gets the guard restarted.
  routes.add(http::verb::get, "/healthz",
             [](const transport::request&, const transport::request_context&) -> net::awaitable<transport::response> {
               co_return text_response(http::status::ok, "ok\n");
             });
  // Readiness: a valid serving certificate is loaded, i.e. one within its validity period
  // (API server clients refuse any other). Never the Kubernetes API, for the same reason as
  // above. The process does not start without a usable pair (see certificate_store), and a
  // reload never swaps in a bad one, so this turns 503 (with the reason as a JSON Status)
  // when the certificate in use expires before a renewal appears in the files: the probe
  // itself is plain HTTP, so it gets this answer whatever the certificate.
  routes.add(http::verb::get, "/readyz",
             [&certificates](const transport::request& req,
                             const transport::request_context&) -> net::awaitable<transport::response> {
               if (const auto usable = certificates.usable_at(std::chrono::system_clock::now()); !usable) {
                 co_return transport::error_response(http::status::service_unavailable,
                                                     "not ready: " + usable.error(), req.version());
               }
               co_return text_response(http::status::ok, "ok\n");
             });
}

}  // namespace

int run_webhook(const webhook_settings& settings) {
  metrics::webhook_metrics measured(lug::version);
  transport::certificate_store certificates(settings.tls);

  io_context_with_shutdown io;
  kube::api_client client(io.get_executor(), settings.cluster);
  guard::setting_reader reader(client, settings.setting, measured);
  auto fresh_reads = guard::make_fresh_reads(io.get_executor(), reader);
  guard::validator validating(settings.job, settings.setting, settings.hold, fresh_reads, measured);
  guard::mutator mutating(settings.job, settings.init_container, settings.supervisor);

  // One listener per audience, each with its own connection cap (transport/limits.hpp),
  // so that clients filling the webhook port can neither starve the kubelet's probes nor
  // the metrics scrapes.
  // Each admission endpoint's name is its path, its log field and its metrics label.
  const std::pair<const char*, admission::review_handler&> review_endpoints[] = {{"validate", validating},
                                                                                 {"mutate", mutating}};
  transport::router webhook_routes;
  for (const auto& [name, handler] : review_endpoints) {
    webhook_routes.add(http::verb::post, std::string("/") + name,
                       admission::make_review_endpoint(name, handler, measured.endpoint(name)));
  }
  transport::router probe_routes;
  add_probe_routes(probe_routes, certificates);
  transport::router metrics_routes;
  metrics_routes.add(http::verb::get, "/metrics", metrics::make_metrics_endpoint(measured));

  transport::certificate_watcher watcher(io.get_executor(), certificates, measured);
  watcher.start();
  transport::server server(io.get_executor(),
                           {"webhook", settings.listen, transport::limits::max_connections, &certificates},
                           webhook_routes);
  std::optional<transport::server> probe_server;
  if (settings.health_probe_listen) {
    probe_server.emplace(io.get_executor(),
                         transport::listener_options{"health probes", *settings.health_probe_listen,
                                                     transport::limits::max_probe_connections, nullptr},
                         probe_routes);
  }
  std::optional<transport::server> metrics_server;
  if (settings.metrics_listen) {
    metrics_server.emplace(io.get_executor(),
                           transport::listener_options{"metrics", *settings.metrics_listen,
                                                       transport::limits::max_metrics_connections,
                                                       settings.metrics_tls ? &certificates : nullptr},
                           metrics_routes);
  }
  server.start();
  if (probe_server) probe_server->start();
  if (metrics_server) metrics_server->start();
  const auto address_of = [](const std::optional<transport::server>& listener) {
    return listener ? describe_endpoint(listener->local_endpoint()) : std::string();
  };
  const auto serving = certificates.certificate();
  log::info("listening", {{"address", describe_endpoint(server.local_endpoint())},
                          {"health_probe_address", address_of(probe_server)},
                          {"metrics_address", address_of(metrics_server)},
                          {"metrics_tls", settings.metrics_tls},
                          {"version", lug::version},
                          {"threads", settings.threads},
                          {"certificate_serial", serving.serial},
                          {"certificate_not_after", transport::format_utc(serving.not_after)},
                          {"api_server", settings.cluster.server_url()},
                          {"credentials_from", settings.cluster.source},
                          {"namespace", settings.job.namespace_name},
                          {"job", settings.job.job_name},
                          {"setting", settings.setting.name},
                          {"poll_interval", format_duration(settings.hold.poll_interval)},
                          {"max_hold", format_duration(settings.hold.max_hold)},
                          {"init_image", settings.init_container.image},
                          {"wrap_uninstall", settings.supervisor.enabled},
                          {"supervisor_attempts", settings.supervisor.attempts}});

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
    // Draining first: from here on every answer says Connection: close, including those of
    // the held requests released next (denied; the Job retries against another replica).
    // Probes and metrics keep answering until the webhook has drained.
    server.drain([&] { net::post(io, [&] { io.stop(); }); });
    fresh_reads.close();
    watcher.stop();
  });

  std::vector<std::jthread> workers;
  for (unsigned i = 1; i < settings.threads; ++i) workers.emplace_back([&io] { io.run(); });
  io.run();
  io.stop();
  workers.clear();  // joins
  io.shutdown();    // destroys what never finished, while what it refers to still exists
  log::info("stopped");
  return exit_ok;
}

}  // namespace lug::cli
