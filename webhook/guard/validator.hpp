// The validating policy (/validate): admit a pod of the uninstall Job only when a fresh
// read of the setting, started after the pod's request arrived, says true.
//
// While the flag is not true the request is held: it waits for the next shared read
// (read_coalescer) every poll interval until the flag reads true (allow) or the hold
// deadline comes (deny, with what was read and the command to fix it). A denied pod is
// never created, so the Job controller simply retries. Read errors that cannot heal on
// their own (401, 403, the API missing) end the hold at once; the others are retried
// until the deadline. On a read error the pod is denied unless --on-read-error=allow,
// and even then only when no read during the hold answered with a value that is not
// true. Out-of-scope requests are allowed at once, without any read.
#pragma once

#include <atomic>
#include <cstddef>

#include "admission/review_handler.hpp"
#include "guard/hold_observer.hpp"
#include "guard/hold_policy.hpp"
#include "guard/fresh_reads.hpp"
#include "guard/scope.hpp"
#include "guard/setting_reader.hpp"

namespace lug::guard {

class validator final : public admission::review_handler {
 public:
  // `reads` and `observer` must outlive the validator; `setting` names what `reads` reads
  // (for messages); `observer` is told when each hold starts and how it ends.
  validator(uninstall_job job, setting_ref setting, hold_policy policy, setting_reads& reads,
            hold_observer& observer = ignore_holds());

  boost::asio::awaitable<admission::admission_response> review(const admission::admission_request& request,
                                                               const admission::review_context& context) override;

  // Requests being held right now.
  std::size_t held() const { return held_.load(); }

 private:
  boost::asio::awaitable<admission::admission_response> hold(const admission::review_context& context);

  uninstall_job job_;
  setting_ref setting_;
  hold_policy policy_;
  setting_reads& reads_;
  hold_observer& observer_;
  std::atomic<std::size_t> held_{0};
};

// Errors a retry within the same hold cannot fix.
bool ends_hold(read_outcome outcome);

}  // namespace lug::guard
