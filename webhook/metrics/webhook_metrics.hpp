// The webhook's Prometheus metrics: what they are, and how the layers feed them.
//
// The layers never see a metrics type. Each tells its own small observer interface what
// happened (admission::review_observer per endpoint, guard::hold_observer,
// transport::certificate_observer), and this class implements them; the wiring in cli/
// hands it to each layer and feeds it the setting reads. exposition() renders everything
// in the Prometheus text format (version 0.0.4), with prometheus-cpp's registry and text
// serializer. Every method is thread-safe.
//
// All names start with longhorn_uninstall_guard_; webhook_metrics.cpp holds their help text.
// Series whose label values are known up front (endpoints, decisions, hold outcomes)
// exist from the start at 0, so that rate() and alerts work before the first event.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "admission/review_observer.hpp"
#include "guard/hold_observer.hpp"
#include "guard/setting_reader.hpp"
#include "transport/certificate_watcher.hpp"

namespace lug::metrics {

// The text exposition format's media type, as Prometheus asks for it in Accept.
inline constexpr std::string_view exposition_content_type = "text/plain; version=0.0.4; charset=utf-8";

class webhook_metrics final : public guard::hold_observer,
                              public guard::read_observer,
                              public transport::certificate_observer {
 public:
  explicit webhook_metrics(std::string_view version);
  ~webhook_metrics() override;
  webhook_metrics(const webhook_metrics&) = delete;
  webhook_metrics& operator=(const webhook_metrics&) = delete;

  // The observer for one admission endpoint ("validate", "mutate"); it lives as long as
  // this object. Call while wiring, before serving.
  admission::review_observer& endpoint(std::string_view name);

  void hold_started() override;
  void hold_ended(guard::hold_outcome outcome) override;

  void certificate_served(const transport::certificate_info& certificate, bool reloaded) override;
  void certificate_refused(std::string_view error) override;

  void read_finished(const guard::setting_read& read) override;

  // Every metric in the text exposition format.
  std::string exposition() const;

 private:
  struct instruments;
  std::unique_ptr<instruments> instruments_;
};

// The `result` label of a setting read: "true", "false" or "invalid_value" when the
// Setting was read, "setting_missing", or the failure (to_string of its read_outcome).
std::string_view setting_read_result(const guard::setting_read& read);

}  // namespace lug::metrics
