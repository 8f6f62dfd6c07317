// `check`: read the setting once fresh (a quorum read) and once cached (resourceVersion=0,
// what longhorn-manager's informer sees) and print both, for people and scripts.
//
// Exit codes: 0 when the fresh read says true (by Go's ParseBool), 1 when both reads were
// answered and the fresh one says anything else (false, not a boolean, no such Setting),
// 2 when a read failed or the flags or cluster config are unusable.
#include <iostream>
#include <optional>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <nlohmann/json.hpp>

#include "cli/app.hpp"
#include "cli/flags.hpp"
#include "cli/setting_client.hpp"
#include "guard/confirmation_wait.hpp"
#include "guard/quoted_value.hpp"
#include "support/duration.hpp"

namespace lug::cli {
namespace {

namespace net = boost::asio;
using clock = std::chrono::steady_clock;

// A failed read leaves the flag's state unknown: neither yes (0) nor no (1). Same code as a
// usage error, so scripts have one "could not tell" status.
constexpr int exit_read_error = 2;

long long milliseconds(const guard::setting_read& read) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(read.finished - read.started).count();
}

nlohmann::json read_json(const guard::setting_read& read) {
  return {{"outcome", guard::to_string(read.outcome)},
          // Bounded like every message that quotes the value (guard/quoted_value.hpp);
          // valueBytes says how long it really is.
          {"value", guard::cut_value(read.value)},
          {"valueBytes", read.value.size()},
          {"resourceVersion", read.resource_version},
          {"httpStatus", read.http_status},
          {"message", read.message},
          {"flag", guard::to_string(read.flag())},
          {"description", guard::describe(read)},
          {"durationMs", milliseconds(read)}};
}

std::string verdict(const guard::setting_read& fresh, const guard::setting_read& cached) {
  if (!fresh.answered() || !cached.answered()) return "error: a read failed, so the flag's state is unknown";
  if (!fresh.is_true()) return "not confirmed: the fresh read does not say true";
  if (!cached.is_true()) {
    return "confirmed by the fresh read; the cached read does not say true yet (longhorn-manager may not see it "
           "yet)";
  }
  return "confirmed: both reads say true";
}

void print_text(std::ostream& out, const kube::cluster_config& config, const guard::setting_ref& setting,
                const guard::setting_read& fresh, const guard::setting_read& cached) {
  out << "setting " << guard::qualified_name(setting) << " (longhorn.io/" << setting.api_version
      << ") at " << config.server_url() << " via " << config.source << "\n"
      << "fresh  (quorum read):        " << guard::describe(fresh) << " [" << milliseconds(fresh) << "ms]\n"
      << "cached (resourceVersion=0):  " << guard::describe(cached) << " [" << milliseconds(cached) << "ms]\n"
      << verdict(fresh, cached) << "\n";
}

void print_json(std::ostream& out, const kube::cluster_config& config, const guard::setting_ref& setting,
                const guard::setting_read& fresh, const guard::setting_read& cached) {
  const nlohmann::json document = {
      {"setting",
       {{"apiVersion", "longhorn.io/" + setting.api_version},
        {"namespace", setting.namespace_name},
        {"name", setting.name}}},
      {"server", config.server_url()},
      {"source", config.source},
      {"fresh", read_json(fresh)},
      {"cached", read_json(cached)},
      {"confirmed", fresh.is_true()},
      {"verdict", verdict(fresh, cached)}};
  out << document.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
}

}  // namespace

int check_command(int argc, char** argv) {
  cxxopts::Options options(argv[0],
                           "Read the setting once fresh (quorum read) and once cached (resourceVersion=0) and print "
                           "both.\nExit status: 0 the fresh read says true, 1 it says anything else, 2 a read failed.");
  options.add_options("Check")
      ("timeout", "time limit of each read",
       cxxopts::value<std::string>()->default_value(format_duration(guard::wait_read_timeout)))
      ("output", "text, or json for scripts", cxxopts::value<std::string>()->default_value("text"));
  add_setting_client_flags(options);
  const auto parsed = parse_flags(options, argc, argv);
  if (!parsed) return exit_ok;

  const auto timeout = duration_flag(*parsed, "timeout");
  if (timeout <= std::chrono::nanoseconds::zero()) throw usage_error("--timeout must be more than 0");
  const auto output = (*parsed)["output"].as<std::string>();
  if (output != "text" && output != "json") {
    throw usage_error("invalid value \"" + output + "\" for --output: want text or json");
  }
  std::optional<setting_client> reading;
  try {
    reading.emplace(*parsed);
  } catch (const kube::config_error& e) {
    std::cerr << argv[0] << ": " << e.what() << "\n";
    return exit_read_error;
  }
  auto& reader = reading->reader();

  guard::setting_read fresh;
  guard::setting_read cached;
  net::co_spawn(
      reading->io(),
      [&]() -> net::awaitable<void> {
        fresh = co_await reader.read(guard::read_mode::fresh, clock::now() + timeout);
        cached = co_await reader.read(guard::read_mode::cached, clock::now() + timeout);
      },
      [](std::exception_ptr error) {
        if (error) std::rethrow_exception(error);
      });
  reading->io().run();

  if (output == "json") {
    print_json(std::cout, reading->config(), reading->setting(), fresh, cached);
  } else {
    print_text(std::cout, reading->config(), reading->setting(), fresh, cached);
  }
  std::cout.flush();
  if (!fresh.answered() || !cached.answered()) return exit_read_error;
  return fresh.is_true() ? exit_ok : exit_failure;
}

}  // namespace lug::cli
