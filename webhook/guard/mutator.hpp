// The mutating policy (/mutate): puts the waiting init container in front of the
// uninstall Job's pods and, unless turned off, runs their longhorn-manager uninstall under
// the supervisor (guard/uninstall_wrapper.hpp). It never holds and never denies; it is
// idempotent, because the API server may invoke a mutating webhook again after other
// webhooks changed the pod; and it skips (with a warning) a pod that mounts no
// service-account token, since the init container could not authenticate to read the
// setting, and without the init container nothing would install the supervisor either.
#pragma once

#include "admission/review_handler.hpp"
#include "guard/init_container.hpp"
#include "guard/scope.hpp"
#include "guard/uninstall_wrapper.hpp"

namespace lug::guard {

class mutator final : public admission::review_handler {
 public:
  mutator(uninstall_job job, init_container_spec container, supervisor_wrap wrap = {});

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
  supervisor_wrap wrap_;
};

}  // namespace lug::guard
