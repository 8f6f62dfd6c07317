#include "guard/validator.hpp"

#include "guard/deny_messages.hpp"
#include "guard/quoted_value.hpp"

namespace lug::guard {
namespace {

namespace adm = admission;
using clock_type = std::chrono::steady_clock;

// Counts a hold for as long as it lasts, and tells the observer how it began and ended. A
// hold left without an outcome (its coroutine destroyed, or an exception) was abandoned,
// as is one whose client went away.
class held_slot {
 public:
  held_slot(std::atomic<std::size_t>& held, hold_observer& observer) : held_(held), observer_(observer) {
    ++held_;
    observer_.hold_started();
  }
  ~held_slot() {
    --held_;
    observer_.hold_ended(outcome_);
  }
  held_slot(const held_slot&) = delete;
  held_slot& operator=(const held_slot&) = delete;

  void ends_with(hold_outcome outcome) { outcome_ = outcome; }

 private:
  std::atomic<std::size_t>& held_;
  hold_observer& observer_;
  hold_outcome outcome_ = hold_outcome::abandoned;
};

std::string value_summary(const setting_read& read) {
  return read.ok() ? "value " + quote_value(read.value) + " at resourceVersion " + read.resource_version
                   : std::string(to_string(read.outcome));
}

}  // namespace

bool ends_hold(read_outcome outcome) {
  return outcome == read_outcome::unauthorized || outcome == read_outcome::forbidden ||
         outcome == read_outcome::api_missing;
}

validator::validator(uninstall_job job, setting_ref setting, hold_policy policy, setting_reads& reads,
                     hold_observer& observer)
    : job_(std::move(job)), setting_(std::move(setting)), policy_(policy), reads_(reads), observer_(observer) {}

boost::asio::awaitable<adm::admission_response> validator::review(const adm::admission_request& request,
                                                                  const adm::review_context& context) {
  const auto scope = classify(request, job_);
  if (!scope.in_scope) co_return adm::allowed(scope.why);
  co_return co_await hold(context);
}

boost::asio::awaitable<adm::admission_response> validator::hold(const adm::review_context& context) {
  // Claim a slot first, then check: two requests racing for the last slot cannot both win.
  held_slot slot(held_, observer_);
  if (held_.load() > policy_.max_held) {
    slot.ends_with(hold_outcome::too_many_held);
    co_return adm::denied(429, too_many_held_message(setting_, policy_.max_held, job_),
                          "too many held requests");
  }

  const auto deadline = hold_deadline(context.received, context.api_timeout, policy_.max_hold);
  setting_reads::request wanted{context.received, context.received, deadline};
  std::optional<setting_read> last;           // the newest read, whatever it said
  std::optional<setting_read> last_answered;  // the newest read that gave a value (or "missing")
  int reads_seen = 0;

  for (;;) {
    auto outcome = co_await reads_.next_read(wanted);
    if (outcome.what == setting_reads::outcome::kind::closed) {
      slot.ends_with(hold_outcome::shutting_down);
      co_return adm::denied(503, shutting_down_message(setting_, job_), "shutting down");
    }
    if (outcome.what == setting_reads::outcome::kind::deadline) break;
    ++reads_seen;
    if (auto& read = outcome.read.value()) {
      last = std::move(read).value();
    } else {
      last = setting_read{};
      last->setting = setting_;
      last->outcome = read_outcome::invalid_response;
      last->message = read.error();
    }
    if (last->answered()) last_answered = last;
    if (last->is_true()) {
      slot.ends_with(hold_outcome::flag_true);
      const auto held = clock_type::now() - context.received;
      co_return adm::allowed("flag true (" + value_summary(*last) + ") after " + std::to_string(reads_seen) +
                             " fresh read(s), held " + std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(held).count()) + "ms");
    }
    if (ends_hold(last->outcome)) break;
    // Once per poll tick, before holding on: a client that has gone frees its slot and
    // stops the reads, as nobody would read the answer (the API server cancelled the
    // create, or restarted).
    if (context.client_gone()) {
      slot.ends_with(hold_outcome::abandoned);
      co_return adm::abandoned("client went away while held, after " + std::to_string(reads_seen) + " fresh read(s)");
    }
    // The next read must be newer than this one, and not sooner than a poll interval after it.
    wanted.started_after = outcome.read_started;
    wanted.not_before = outcome.read_started + std::chrono::duration_cast<clock_type::duration>(policy_.poll_interval);
  }

  const auto held = clock_type::now() - context.received;
  if (last_answered) {
    // The API server told us the flag is not true: deny, whatever --on-read-error says.
    slot.ends_with(hold_outcome::flag_not_true);
    co_return adm::denied(403, flag_not_true_message(*last_answered, job_, held),
                          "flag not true (" + value_summary(*last_answered) + ")");
  }
  const std::string why = "read failed (" + (last ? std::string(to_string(last->outcome)) : std::string("no read finished")) + ")";
  if (policy_.read_errors == on_read_error::allow) {
    slot.ends_with(hold_outcome::read_failed_allowed);
    co_return adm::allowed(why + "; allowed by --on-read-error=allow");
  }
  slot.ends_with(hold_outcome::read_failed);
  co_return adm::denied(503, read_failed_message(setting_, last ? &*last : nullptr, job_, held), why);
}

}  // namespace lug::guard
