// `serve`: wires the TLS server, the routes and the guard together and runs them until
// SIGTERM/SIGINT, then drains within --shutdown-grace and exits 0.
#include <csignal>
#include <iostream>
#include <thread>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>

#include "admission/http_endpoint.hpp"
#include "cli/app.hpp"
#include "cli/flags.hpp"
#include "cli/listen_address.hpp"
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

// Until the guard policy is wired in, every review is allowed.
class allow_all final : public admission::review_handler {
 public:
  net::awaitable<admission::admission_response> review(const admission::admission_request&,
                                                       const admission::review_context&) override {
    co_return admission::allowed("no policy");
  }
};

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

}  // namespace

int serve_command(int argc, char** argv) {
  cxxopts::Options options(argv[0], "Run the validating (/validate) and mutating (/mutate) admission webhook.");
  options.add_options("Server")
      ("listen", "ADDRESS:PORT to listen on (port 0 picks a free one)",
       cxxopts::value<std::string>()->default_value("0.0.0.0:8443"))
      ("tls-cert", "PEM certificate chain to serve (required)", cxxopts::value<std::string>())
      ("tls-key", "PEM private key of --tls-cert (required)", cxxopts::value<std::string>())
      ("client-ca", "PEM CA bundle; when set, clients must present a certificate it signed",
       cxxopts::value<std::string>())
      ("shutdown-grace", "on SIGTERM, how long in-flight requests may take before connections are cut",
       cxxopts::value<std::string>()->default_value("20s"));
  add_logging_flags(options);
  const auto parsed = parse_flags(options, argc, argv);
  if (!parsed) return exit_ok;

  if (parsed->count("tls-cert") == 0 || parsed->count("tls-key") == 0) {
    throw usage_error("--tls-cert and --tls-key are required");
  }
  const auto listen = parse_listen_address((*parsed)["listen"].as<std::string>());
  const auto shutdown_grace = duration_flag(*parsed, "shutdown-grace");
  apply_logging_flags(*parsed);

  transport::tls_files files{(*parsed)["tls-cert"].as<std::string>(), (*parsed)["tls-key"].as<std::string>(),
                             std::nullopt};
  if (parsed->count("client-ca") != 0) files.client_ca = (*parsed)["client-ca"].as<std::string>();
  transport::certificate_store certificates(files);

  net::io_context io;
  allow_all policy;

  transport::router routes;
  routes.add(http::verb::post, "/validate", admission::make_review_endpoint("validate", policy));
  routes.add(http::verb::post, "/mutate", admission::make_review_endpoint("mutate", policy));
  routes.add(http::verb::get, "/healthz",
             [](const transport::request&, const transport::request_context&) -> net::awaitable<transport::response> {
               co_return text_response(http::status::ok, "ok\n");
             });
  routes.add(http::verb::get, "/readyz",
             [&certificates](const transport::request&,
                             const transport::request_context&) -> net::awaitable<transport::response> {
               if (!certificates.current()) co_return text_response(http::status::service_unavailable, "no certificate\n");
               co_return text_response(http::status::ok, "ok\n");
             });
  routes.add(http::verb::get, "/metrics",
             [](const transport::request& req, const transport::request_context&) -> net::awaitable<transport::response> {
               co_return transport::error_response(http::status::not_implemented,
                                                   "metrics are not implemented in this version", req.version());
             });

  transport::server server(io.get_executor(), listen, certificates, routes);
  server.start();
  log::info("listening", {{"address", describe_endpoint(server.local_endpoint())}, {"version", lug::version}});

  net::signal_set signals(io, SIGTERM, SIGINT);
  net::steady_timer grace(io);
  signals.async_wait([&](const boost::system::error_code& ec, int signal) {
    if (ec) return;
    log::info("shutting down", {{"signal", signal == SIGTERM ? "SIGTERM" : "SIGINT"},
                                {"grace", format_duration(shutdown_grace)}});
    grace.expires_after(shutdown_grace);
    grace.async_wait([&](const boost::system::error_code& timer_ec) {
      if (timer_ec) return;
      log::warn("grace period over; closing remaining connections", {{"open", server.open_connections()}});
      server.force_close();
      io.stop();
    });
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
