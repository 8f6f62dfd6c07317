// The Prometheus metrics: names, labels, and how each observer call moves them.
#include <doctest/doctest.h>

#include <sstream>

#include "admission/review_observer.hpp"
#include "metrics/webhook_metrics.hpp"

using namespace std::chrono_literals;
using lug::metrics::webhook_metrics;

namespace {

// The value of the sample whose name and labels are exactly `series` (e.g.
// `foo_total{a="b"}`), or -1 when there is no such line.
double sample(const std::string& text, const std::string& series) {
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.size() > series.size() && line.compare(0, series.size(), series) == 0 && line[series.size()] == ' ') {
      return std::stod(line.substr(series.size() + 1));
    }
  }
  return -1;
}

lug::guard::setting_read read_of(lug::guard::read_outcome outcome, std::string value = {},
                                 lug::guard::read_mode mode = lug::guard::read_mode::fresh) {
  lug::guard::setting_read read;
  read.outcome = outcome;
  read.value = std::move(value);
  read.mode = mode;
  read.started = std::chrono::steady_clock::now();
  read.finished = read.started + 3ms;
  return read;
}

constexpr const char* prefix = "longhorn_uninstall_guard_";

}  // namespace

TEST_SUITE("metrics") {
  TEST_CASE("every family has help and type lines, under the project's prefix") {
    webhook_metrics metrics("1.2.3");
    metrics.endpoint("validate");
    // A family is printed once it has a series; setting reads get theirs at the first read.
    metrics.read_finished(read_of(lug::guard::read_outcome::ok, "true"));
    const auto text = metrics.exposition();
    for (const std::string family :
         {"admission_requests_total counter", "admission_duration_seconds histogram", "holds_in_progress gauge",
          "holds_started_total counter", "holds_ended_total counter", "setting_reads_total counter",
          "setting_read_duration_seconds histogram", "certificate_reloads_total counter",
          "certificate_reload_errors_total counter", "certificate_expiration_timestamp_seconds gauge",
          "build_info gauge"}) {
      CAPTURE(family);
      CHECK(text.find("# TYPE " + std::string(prefix) + family + "\n") != std::string::npos);
      const auto name = family.substr(0, family.find(' '));
      CHECK(text.find("# HELP " + std::string(prefix) + name + " ") != std::string::npos);
    }
    std::istringstream lines(text);
    std::string line;
    while (std::getline(lines, line)) {
      if (line.empty() || line[0] == '#') continue;
      CAPTURE(line);
      CHECK(line.rfind(prefix, 0) == 0);
    }
  }

  TEST_CASE("build info carries the version") {
    webhook_metrics metrics("1.2.3");
    CHECK(sample(metrics.exposition(), "longhorn_uninstall_guard_build_info{version=\"1.2.3\"}") == 1);
  }

  TEST_CASE("an endpoint's series all exist at zero before its first request") {
    webhook_metrics metrics("1");
    metrics.endpoint("mutate");
    const auto text = metrics.exposition();
    for (const char* decision : {"allowed", "patched", "denied", "errored", "rejected"}) {
      CAPTURE(decision);
      CHECK(sample(text, std::string("longhorn_uninstall_guard_admission_requests_total{decision=\"") + decision +
                             "\",endpoint=\"mutate\"}") == 0);
    }
    CHECK(sample(text, "longhorn_uninstall_guard_admission_duration_seconds_count{endpoint=\"mutate\"}") == 0);
  }

  TEST_CASE("a review counts by endpoint and decision, and its latency lands in the right buckets") {
    webhook_metrics metrics("1");
    auto& validate = metrics.endpoint("validate");
    auto& mutate = metrics.endpoint("mutate");
    validate.reviewed(lug::admission::review_outcome::denied, 3ms);
    validate.reviewed(lug::admission::review_outcome::denied, 12s);
    mutate.reviewed(lug::admission::review_outcome::patched, 200us);
    const auto text = metrics.exposition();
    const std::string requests = "longhorn_uninstall_guard_admission_requests_total";
    CHECK(sample(text, requests + "{decision=\"denied\",endpoint=\"validate\"}") == 2);
    CHECK(sample(text, requests + "{decision=\"allowed\",endpoint=\"validate\"}") == 0);
    CHECK(sample(text, requests + "{decision=\"patched\",endpoint=\"mutate\"}") == 1);

    const std::string bucket = "longhorn_uninstall_guard_admission_duration_seconds_bucket{endpoint=\"validate\",le=";
    CHECK(sample(text, bucket + "\"0.0005\"}") == 0);
    CHECK(sample(text, bucket + "\"0.0025\"}") == 0);
    CHECK(sample(text, bucket + "\"0.005\"}") == 1);
    CHECK(sample(text, bucket + "\"10\"}") == 1);
    CHECK(sample(text, bucket + "\"20\"}") == 2);
    CHECK(sample(text, bucket + "\"30\"}") == 2);
    CHECK(sample(text, bucket + "\"+Inf\"}") == 2);
    CHECK(sample(text, "longhorn_uninstall_guard_admission_duration_seconds_count{endpoint=\"validate\"}") == 2);
    CHECK(sample(text, "longhorn_uninstall_guard_admission_duration_seconds_sum{endpoint=\"validate\"}") ==
          doctest::Approx(12.003));
    CHECK(sample(text, "longhorn_uninstall_guard_admission_duration_seconds_bucket{endpoint=\"mutate\",le=\"0.0005\"}") ==
          1);
  }

  TEST_CASE("holds: in progress rises and falls, each end counts under its outcome") {
    webhook_metrics metrics("1");
    metrics.hold_started();
    metrics.hold_started();
    metrics.hold_started();
    metrics.hold_ended(lug::guard::hold_outcome::flag_true);
    metrics.hold_ended(lug::guard::hold_outcome::read_failed);
    const auto text = metrics.exposition();
    CHECK(sample(text, "longhorn_uninstall_guard_holds_in_progress") == 1);
    CHECK(sample(text, "longhorn_uninstall_guard_holds_started_total") == 2 + 1);
    CHECK(sample(text, "longhorn_uninstall_guard_holds_ended_total{outcome=\"flag_true\"}") == 1);
    CHECK(sample(text, "longhorn_uninstall_guard_holds_ended_total{outcome=\"read_failed\"}") == 1);
    CHECK(sample(text, "longhorn_uninstall_guard_holds_ended_total{outcome=\"abandoned\"}") == 0);
    CHECK(sample(text, "longhorn_uninstall_guard_holds_ended_total{outcome=\"too_many_held\"}") == 0);
  }

  TEST_CASE("setting reads count by kind and result, with their latency") {
    using lug::guard::read_outcome;
    webhook_metrics metrics("1");
    metrics.read_finished(read_of(read_outcome::ok, "True"));
    metrics.read_finished(read_of(read_outcome::ok, "false"));
    metrics.read_finished(read_of(read_outcome::ok, "yes"));
    metrics.read_finished(read_of(read_outcome::forbidden));
    metrics.read_finished(read_of(read_outcome::ok, "true", lug::guard::read_mode::cached));
    const auto text = metrics.exposition();
    const std::string reads = "longhorn_uninstall_guard_setting_reads_total";
    CHECK(sample(text, reads + "{kind=\"fresh\",result=\"true\"}") == 1);
    CHECK(sample(text, reads + "{kind=\"fresh\",result=\"false\"}") == 1);
    CHECK(sample(text, reads + "{kind=\"fresh\",result=\"invalid_value\"}") == 1);
    CHECK(sample(text, reads + "{kind=\"fresh\",result=\"forbidden\"}") == 1);
    CHECK(sample(text, reads + "{kind=\"cached\",result=\"true\"}") == 1);
    const std::string duration = "longhorn_uninstall_guard_setting_read_duration_seconds";
    CHECK(sample(text, duration + "_count{kind=\"fresh\"}") == 4);
    CHECK(sample(text, duration + "_bucket{kind=\"fresh\",le=\"0.0025\"}") == 0);
    CHECK(sample(text, duration + "_bucket{kind=\"fresh\",le=\"0.005\"}") == 4);
    CHECK(sample(text, duration + "_bucket{kind=\"fresh\",le=\"5\"}") == 4);
    CHECK(sample(text, duration + "_count{kind=\"cached\"}") == 1);
  }

  TEST_CASE("the result label of a read") {
    using lug::guard::read_outcome;
    using lug::metrics::setting_read_result;
    CHECK(setting_read_result(read_of(read_outcome::ok, "t")) == "true");
    CHECK(setting_read_result(read_of(read_outcome::ok, "0")) == "false");
    CHECK(setting_read_result(read_of(read_outcome::ok, "")) == "invalid_value");
    CHECK(setting_read_result(read_of(read_outcome::setting_missing)) == "setting_missing");
    CHECK(setting_read_result(read_of(read_outcome::timeout)) == "timeout");
    CHECK(setting_read_result(read_of(read_outcome::unreachable)) == "unreachable");
  }

  TEST_CASE("certificate: expiry as a Unix timestamp, reloads and refusals counted") {
    webhook_metrics metrics("1");
    lug::transport::certificate_info certificate;
    certificate.not_after = std::chrono::system_clock::time_point(std::chrono::seconds(1'800'000'000));
    metrics.certificate_served(certificate, false);
    auto text = metrics.exposition();
    CHECK(sample(text, "longhorn_uninstall_guard_certificate_expiration_timestamp_seconds") == 1.8e9);
    CHECK(sample(text, "longhorn_uninstall_guard_certificate_reloads_total") == 0);

    certificate.not_after += 24h;
    metrics.certificate_served(certificate, true);
    metrics.certificate_refused("key does not match");
    text = metrics.exposition();
    CHECK(sample(text, "longhorn_uninstall_guard_certificate_expiration_timestamp_seconds") == 1.8e9 + 86400);
    CHECK(sample(text, "longhorn_uninstall_guard_certificate_reloads_total") == 1);
    CHECK(sample(text, "longhorn_uninstall_guard_certificate_reload_errors_total") == 1);
  }
}

TEST_SUITE("admission outcomes") {
  TEST_CASE("a decision counts as allowed, patched, denied, errored or abandoned, whatever its status code") {
    using lug::admission::review_outcome;
    CHECK(lug::admission::allowed("x").outcome == review_outcome::allowed);
    lug::admission::json_patch patch;
    CHECK(lug::admission::patched(patch, "nothing to add").outcome == review_outcome::allowed);
    patch.add("/metadata/labels/guarded", "yes");
    CHECK(lug::admission::patched(patch, "labelled").outcome == review_outcome::patched);
    CHECK(lug::admission::abandoned("gone").outcome == review_outcome::abandoned);
    CHECK(lug::admission::denied(403, "no", "no").outcome == review_outcome::denied);
    CHECK(lug::admission::denied(503, "later", "later").outcome == review_outcome::denied);
    CHECK(lug::admission::errored("boom").outcome == review_outcome::errored);
    // A policy's own 500 is a denial, not the webhook failing to decide.
    CHECK(lug::admission::denied(500, "no", "no").outcome == review_outcome::denied);
    CHECK(lug::admission::to_string(review_outcome::rejected) == "rejected");
  }
}
