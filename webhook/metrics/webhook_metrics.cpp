#include "metrics/webhook_metrics.hpp"

#include <array>
#include <deque>
#include <mutex>
#include <sstream>

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

namespace lug::metrics {
namespace {

namespace prom = prometheus;
using seconds = std::chrono::duration<double>;

// From a fraction of a millisecond (an out-of-scope pod answered at once) to 30 s, the
// API server's upper bound on a webhook call, which caps how long a hold can last.
const prom::Histogram::BucketBoundaries admission_buckets = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                                             0.25,   0.5,   1,      2.5,   5,     10,   20,    30};

// From a fraction of a millisecond to 5 s, the longest a single read may take
// (guard::max_read_time) before it counts as a timeout.
const prom::Histogram::BucketBoundaries read_buckets = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                        0.1,    0.25,  0.5,    1,     2.5,  5};

constexpr std::array all_review_outcomes = {admission::review_outcome::allowed, admission::review_outcome::patched,
                                            admission::review_outcome::denied, admission::review_outcome::errored,
                                            admission::review_outcome::rejected, admission::review_outcome::abandoned};

constexpr std::array all_hold_outcomes = {guard::hold_outcome::flag_true,     guard::hold_outcome::flag_not_true,
                                          guard::hold_outcome::read_failed,   guard::hold_outcome::read_failed_allowed,
                                          guard::hold_outcome::too_many_held, guard::hold_outcome::shutting_down,
                                          guard::hold_outcome::abandoned};

// The arrays above index the series by the enum's value, so they must list it in order.
template <typename Enum, std::size_t n>
constexpr bool in_enum_order(const std::array<Enum, n>& values) {
  for (std::size_t i = 0; i < n; ++i) {
    if (static_cast<std::size_t>(values[i]) != i) return false;
  }
  return true;
}
static_assert(in_enum_order(all_review_outcomes));
static_assert(in_enum_order(all_hold_outcomes));

std::string label(std::string_view value) { return std::string(value); }

double unix_seconds(std::chrono::system_clock::time_point time) {
  return std::chrono::duration_cast<seconds>(time.time_since_epoch()).count();
}

// One endpoint's series, looked up once so that answering a request only touches atomics.
class endpoint_observer final : public admission::review_observer {
 public:
  endpoint_observer(prom::Family<prom::Counter>& requests, prom::Family<prom::Histogram>& durations,
                    std::string_view endpoint)
      : duration_(durations.Add({{"endpoint", label(endpoint)}}, admission_buckets)) {
    for (std::size_t i = 0; i < all_review_outcomes.size(); ++i) {
      requests_[i] = &requests.Add({{"endpoint", label(endpoint)}, {"decision", label(to_string(all_review_outcomes[i]))}});
    }
  }

  void reviewed(admission::review_outcome outcome, std::chrono::nanoseconds latency) override {
    requests_[static_cast<std::size_t>(outcome)]->Increment();
    duration_.Observe(std::chrono::duration_cast<seconds>(latency).count());
  }

 private:
  std::array<prom::Counter*, all_review_outcomes.size()> requests_{};
  prom::Histogram& duration_;
};

}  // namespace

struct webhook_metrics::instruments {
  prom::Registry registry;

  prom::Family<prom::Counter>& admission_requests =
      prom::BuildCounter()
          .Name("longhorn_uninstall_guard_admission_requests_total")
          .Help("Admission requests answered, by endpoint (validate, mutate) and decision (allowed, patched, denied, "
                "errored when the webhook failed to decide, rejected when the request was not a JSON AdmissionReview, "
                "abandoned when the client went away before the answer).")
          .Register(registry);
  prom::Family<prom::Histogram>& admission_duration =
      prom::BuildHistogram()
          .Name("longhorn_uninstall_guard_admission_duration_seconds")
          .Help("Time from an admission request having arrived to its answer being ready, holds included, by endpoint.")
          .Register(registry);

  prom::Gauge& holds_in_progress = prom::BuildGauge()
                                       .Name("longhorn_uninstall_guard_holds_in_progress")
                                       .Help("Uninstall pods held right now, waiting for the setting to read true.")
                                       .Register(registry)
                                       .Add({});
  prom::Counter& holds_started = prom::BuildCounter()
                                     .Name("longhorn_uninstall_guard_holds_started_total")
                                     .Help("Holds started: in-scope pods that reached the validating policy.")
                                     .Register(registry)
                                     .Add({});
  prom::Family<prom::Counter>& holds_ended =
      prom::BuildCounter()
          .Name("longhorn_uninstall_guard_holds_ended_total")
          .Help("Holds ended, by outcome (flag_true, flag_not_true, read_failed, read_failed_allowed, too_many_held, "
                "shutting_down, abandoned).")
          .Register(registry);
  std::array<prom::Counter*, all_hold_outcomes.size()> holds_ended_by_outcome{};

  prom::Family<prom::Counter>& setting_reads =
      prom::BuildCounter()
          .Name("longhorn_uninstall_guard_setting_reads_total")
          .Help("Reads of the Longhorn setting, by kind (fresh: quorum read; cached: the API server's watch cache) and "
                "result (true, false, invalid_value, setting_missing, or the failure such as forbidden, timeout, "
                "unreachable).")
          .Register(registry);
  prom::Family<prom::Histogram>& setting_read_duration =
      prom::BuildHistogram()
          .Name("longhorn_uninstall_guard_setting_read_duration_seconds")
          .Help("Time one read of the Longhorn setting took, by kind (fresh, cached).")
          .Register(registry);
  prom::Histogram& fresh_read_duration = setting_read_duration.Add({{"kind", "fresh"}}, read_buckets);
  prom::Histogram& cached_read_duration = setting_read_duration.Add({{"kind", "cached"}}, read_buckets);

  prom::Counter& certificate_reloads =
      prom::BuildCounter()
          .Name("longhorn_uninstall_guard_certificate_reloads_total")
          .Help("Serving certificate reloads: changed certificate files loaded and served to new connections.")
          .Register(registry)
          .Add({});
  prom::Counter& certificate_reload_errors =
      prom::BuildCounter()
          .Name("longhorn_uninstall_guard_certificate_reload_errors_total")
          .Help("Changed serving certificate files that were refused (unreadable, not PEM, key not matching, "
                "expired); the previous certificate stays in use.")
          .Register(registry)
          .Add({});
  prom::Gauge& certificate_expiration =
      prom::BuildGauge()
          .Name("longhorn_uninstall_guard_certificate_expiration_timestamp_seconds")
          .Help("When the serving certificate in use expires (its notAfter), in seconds since the Unix epoch.")
          .Register(registry)
          .Add({});

  prom::Family<prom::Gauge>& build_info =
      prom::BuildGauge()
          .Name("longhorn_uninstall_guard_build_info")
          .Help("Always 1; the version label names the running build.")
          .Register(registry);

  std::mutex endpoints_mutex;
  std::deque<endpoint_observer> endpoints;  // a deque never moves its elements

  explicit instruments(std::string_view version) {
    build_info.Add({{"version", label(version)}}).Set(1);
    for (std::size_t i = 0; i < all_hold_outcomes.size(); ++i) {
      holds_ended_by_outcome[i] = &holds_ended.Add({{"outcome", label(to_string(all_hold_outcomes[i]))}});
    }
  }
};

webhook_metrics::webhook_metrics(std::string_view version) : instruments_(std::make_unique<instruments>(version)) {}

webhook_metrics::~webhook_metrics() = default;

admission::review_observer& webhook_metrics::endpoint(std::string_view name) {
  std::lock_guard lock(instruments_->endpoints_mutex);
  return instruments_->endpoints.emplace_back(instruments_->admission_requests, instruments_->admission_duration, name);
}

void webhook_metrics::hold_started() {
  instruments_->holds_started.Increment();
  instruments_->holds_in_progress.Increment();
}

void webhook_metrics::hold_ended(guard::hold_outcome outcome) {
  instruments_->holds_in_progress.Decrement();
  instruments_->holds_ended_by_outcome[static_cast<std::size_t>(outcome)]->Increment();
}

void webhook_metrics::certificate_served(const transport::certificate_info& certificate, bool reloaded) {
  if (reloaded) instruments_->certificate_reloads.Increment();
  instruments_->certificate_expiration.Set(unix_seconds(certificate.not_after));
}

void webhook_metrics::certificate_refused(std::string_view) { instruments_->certificate_reload_errors.Increment(); }

void webhook_metrics::read_finished(const guard::setting_read& read) {
  const auto kind = to_string(read.mode);
  instruments_->setting_reads.Add({{"kind", label(kind)}, {"result", label(setting_read_result(read))}}).Increment();
  auto& duration =
      read.mode == guard::read_mode::fresh ? instruments_->fresh_read_duration : instruments_->cached_read_duration;
  duration.Observe(std::chrono::duration_cast<seconds>(read.finished - read.started).count());
}

std::string webhook_metrics::exposition() const {
  std::ostringstream out;
  prom::TextSerializer().Serialize(out, instruments_->registry.Collect());
  return out.str();
}

std::string_view setting_read_result(const guard::setting_read& read) {
  switch (read.outcome) {
    case guard::read_outcome::ok:
      switch (read.flag()) {
        case guard::flag_value::true_value: return "true";
        case guard::flag_value::false_value: return "false";
        case guard::flag_value::invalid: return "invalid_value";
      }
      return "invalid_value";
    default:
      return to_string(read.outcome);
  }
}

}  // namespace lug::metrics
