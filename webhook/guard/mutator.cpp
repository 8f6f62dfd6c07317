#include "guard/mutator.hpp"

namespace lug::guard {

mutator::mutator(uninstall_job job, init_container_spec container, supervisor_wrap wrap)
    : job_(std::move(job)), container_(std::move(container)), wrap_(wrap) {}

boost::asio::awaitable<admission::admission_response> mutator::review(const admission::admission_request& request,
                                                                      const admission::review_context&) {
  co_return decide(request);
}

bool mutator::wants_object(const admission::admission_request& request) const {
  return classify(request, job_).in_scope;
}

admission::admission_response mutator::decide(const admission::admission_request& request) const {
  const auto scope = classify(request, job_);
  if (!scope.in_scope) return admission::allowed(scope.why);
  const auto& pod = request.object;
  if (!pod.contains("spec") || !pod["spec"].is_object()) {
    return admission::allowed("pod has no spec; nothing to inject into");
  }
  if (has_init_container(pod)) return admission::allowed("init container already present");
  const auto token = find_token_mount(pod);
  if (!token) {
    return admission::with_warning(
        admission::allowed("no service-account token mounted; init container not injected"),
        std::string("longhorn-uninstall-guard: the pod mounts no service-account token, so the ") +
            init_container_name +
            (wrap_.enabled ? " init container (nor the supervisor it installs) was not added" : " init container was not added") +
            "; the validating webhook still holds the pod until the " + container_.setting.name +
            " setting reads true");
  }
  const auto plan = plan_wrap(pod, wrap_);
  admission::json_patch patch = injection_patch(pod, make_init_container(container_, *token, plan.install));
  add_wrap_operations(patch, pod, plan, wrap_);
  auto response = admission::patched(
      patch, "injected init container " + std::string(init_container_name) +
                 (plan.to_wrap.empty() ? std::string() : "; uninstall command runs under the supervisor"));
  for (const auto& warning : plan.warnings) response = admission::with_warning(std::move(response), warning);
  return response;
}

}  // namespace lug::guard
