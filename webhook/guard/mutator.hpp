// The mutating policy (/mutate): puts the waiting init container in front of the
// uninstall Job's pods. It never holds and never denies; it is idempotent, because the
// API server may invoke a mutating webhook again after other webhooks changed the pod;
// and it skips (with a warning) a pod that mounts no service-account token, since the
// init container could not authenticate to read the setting.
#pragma once

#include "admission/review_handler.hpp"
#include "guard/init_container.hpp"
#include "guard/scope.hpp"

namespace lug::guard {

class mutator final : public admission::review_handler {
 public:
  mutator(uninstall_job job, init_container_spec container);

  boost::asio::awaitable<admission::admission_response> review(const admission::admission_request& request,
                                                               const admission::review_context& context) override;

  // Only the uninstall Job's pods are edited, so only they need their object decoded.
  bool wants_object(const admission::admission_request& request) const override;

  // The decision itself, without the coroutine (for tests and for review()); expects
  // request.object decoded when wants_object() said so.
  admission::admission_response decide(const admission::admission_request& request) const;

 private:
  uninstall_job job_;
  init_container_spec container_;
};

}  // namespace lug::guard
