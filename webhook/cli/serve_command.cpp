// `serve`: turns flags into webhook_settings and runs the webhook.
#include "cli/app.hpp"
#include "cli/flags.hpp"
#include "cli/kube_flags.hpp"
#include "cli/listen_address.hpp"
#include "cli/setting_flags.hpp"
#include "cli/webhook_app.hpp"
#include "cli/worker_threads.hpp"
#include "supervisor/retry_rule.hpp"
#include "support/duration.hpp"
#include "support/version.hpp"

namespace lug::cli {
namespace {

// Every default is the one of the struct the flag fills in, so that each lives in one place.
void add_serve_flags(cxxopts::Options& options) {
  const webhook_settings defaults;
  options.add_options("Server")
      ("listen", "ADDRESS:PORT of the webhook: POST /validate and /mutate over TLS (port 0 picks a free one)",
       cxxopts::value<std::string>()->default_value("0.0.0.0:8443"))
      ("health-probe-listen",
       "ADDRESS:PORT serving GET/HEAD /healthz and /readyz over plain HTTP, for the kubelet's probes; "
       "empty (--health-probe-listen=\"\") disables it",
       cxxopts::value<std::string>()->default_value("0.0.0.0:8081"))
      ("metrics-listen",
       "ADDRESS:PORT serving GET/HEAD /metrics, over plain HTTP unless --metrics-tls; "
       "empty (--metrics-listen=\"\") disables it",
       cxxopts::value<std::string>()->default_value("0.0.0.0:8080"))
      ("metrics-tls", "serve /metrics over TLS with the serving certificate (--tls-cert, --tls-key, --client-ca)",
       cxxopts::value<bool>()->default_value("false"))
      ("tls-cert", "PEM certificate chain to serve (required)", cxxopts::value<std::string>())
      ("tls-key", "PEM private key of --tls-cert (required)", cxxopts::value<std::string>())
      ("client-ca", "PEM CA bundle; when set, clients must present a certificate it signed",
       cxxopts::value<std::string>())
      ("shutdown-grace", "on SIGTERM, how long in-flight requests may take before connections are cut",
       cxxopts::value<std::string>()->default_value(format_duration(defaults.shutdown_grace)))
      ("threads", "threads serving requests; 0: one per CPU the process may use (affinity and cgroup CPU limit)",
       cxxopts::value<std::string>()->default_value("0"));
  options.add_options("Guard")
      ("job-name", "name of the uninstall Job whose pods are guarded",
       cxxopts::value<std::string>()->default_value(defaults.job.job_name))
      ("poll-interval", "while holding a pod, how often to read the setting again",
       cxxopts::value<std::string>()->default_value(format_duration(defaults.hold.poll_interval)))
      ("max-hold", "longest a pod is held (the API server's ?timeout, less a margin, also bounds it)",
       cxxopts::value<std::string>()->default_value(format_duration(defaults.hold.max_hold)))
      ("max-held", "pods held at once; beyond it, pods are denied at once",
       cxxopts::value<std::string>()->default_value(std::to_string(defaults.hold.max_held)))
      ("on-read-error", "when the setting cannot be read: deny or allow",
       cxxopts::value<std::string>()->default_value(std::string(guard::to_string(defaults.hold.read_errors))))
      ("init-image", "image of the injected init container",
       cxxopts::value<std::string>()->default_value(lug::default_image))
      ("init-settle", "how long the init container waits after the flag reads true everywhere",
       cxxopts::value<std::string>()->default_value(format_duration(defaults.init_container.settle)))
      ("init-poll-interval", "how often the init container reads the setting",
       cxxopts::value<std::string>()->default_value(format_duration(defaults.init_container.poll_interval)))
      ("wrap-uninstall", "run the uninstall container's longhorn-manager uninstall under the supervisor, which "
       "retries its premature deleting-confirmation-flag refusal (longhorn/longhorn#10483); false turns it off",
       cxxopts::value<bool>()->default_value(defaults.supervisor.enabled ? "true" : "false"))
      ("supervisor-attempts", "the supervisor's --attempts: how often it runs the command at most",
       cxxopts::value<std::string>()->default_value(std::to_string(defaults.supervisor.attempts)));
}

// The hold bounds: the API server never waits more than 30 s for a webhook, so longer
// holds could never be answered in time.
constexpr auto max_hold_limit = std::chrono::seconds(30);
// Reading more often than every 50 ms adds API load without making anyone faster.
constexpr auto min_poll_interval = std::chrono::milliseconds(50);
constexpr long long max_held_limit = 100000;

}  // namespace

int serve_command(int argc, char** argv) {
  cxxopts::Options options(argv[0], "Run the validating (/validate) and mutating (/mutate) admission webhook.");
  add_serve_flags(options);
  add_setting_flags(options);
  add_kube_flags(options);
  add_logging_flags(options);
  const auto parsed = parse_flags(options, argc, argv);
  if (!parsed) return exit_ok;
  const auto& flags = *parsed;

  if (flags.count("tls-cert") == 0 || flags.count("tls-key") == 0) {
    throw usage_error("--tls-cert and --tls-key are required");
  }
  webhook_settings settings;
  settings.listen = parse_listen_address(flags["listen"].as<std::string>());
  if (const auto probes = flags["health-probe-listen"].as<std::string>(); !probes.empty()) {
    settings.health_probe_listen = parse_listen_address(probes, "--health-probe-listen");
  }
  if (const auto metrics = flags["metrics-listen"].as<std::string>(); !metrics.empty()) {
    settings.metrics_listen = parse_listen_address(metrics, "--metrics-listen");
  }
  settings.metrics_tls = flags["metrics-tls"].as<bool>();
  settings.tls = {flags["tls-cert"].as<std::string>(), flags["tls-key"].as<std::string>(), std::nullopt};
  if (flags.count("client-ca") != 0) settings.tls.client_ca = flags["client-ca"].as<std::string>();
  settings.shutdown_grace = duration_flag(flags, "shutdown-grace");
  settings.threads = static_cast<unsigned>(integer_flag(flags, "threads", 0, max_worker_threads));
  if (settings.threads == 0) settings.threads = default_worker_threads();

  settings.setting = setting_ref_from_flags(flags);
  settings.job = {settings.setting.namespace_name, flags["job-name"].as<std::string>()};
  if (settings.job.job_name.empty()) throw usage_error("--job-name must not be empty");

  settings.hold.poll_interval = duration_flag(flags, "poll-interval");
  if (settings.hold.poll_interval < min_poll_interval) throw usage_error("--poll-interval must be at least 50ms");
  settings.hold.max_hold = duration_flag(flags, "max-hold");
  if (settings.hold.max_hold > max_hold_limit) {
    throw usage_error("--max-hold must be at most 30s: the API server never waits longer for a webhook");
  }
  settings.hold.max_held = static_cast<std::size_t>(integer_flag(flags, "max-held", 1, max_held_limit));
  const auto on_error = flags["on-read-error"].as<std::string>();
  if (on_error == guard::to_string(guard::on_read_error::deny)) {
    settings.hold.read_errors = guard::on_read_error::deny;
  } else if (on_error == guard::to_string(guard::on_read_error::allow)) {
    settings.hold.read_errors = guard::on_read_error::allow;
  } else {
    throw usage_error("invalid value \"" + on_error + "\" for --on-read-error: want deny or allow");
  }

  settings.init_container.image = flags["init-image"].as<std::string>();
  if (settings.init_container.image.empty()) throw usage_error("--init-image must not be empty");
  settings.init_container.setting = settings.setting;
  settings.init_container.settle = duration_flag(flags, "init-settle");
  settings.init_container.poll_interval = duration_flag(flags, "init-poll-interval");
  settings.supervisor.enabled = flags["wrap-uninstall"].as<bool>();
  settings.supervisor.attempts =
      static_cast<int>(integer_flag(flags, "supervisor-attempts", 1, supervisor::max_attempts));

  apply_logging_flags(flags);
  settings.cluster = load_cluster_config(flags);
  return run_webhook(settings);
}

}  // namespace lug::cli
