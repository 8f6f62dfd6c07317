#include "guard/deny_messages.hpp"

#include "support/duration.hpp"

namespace lug::guard {
namespace {

std::string job_retries(const uninstall_job& job) {
  return " The Job " + job.namespace_name + "/" + job.job_name +
         " retries by itself (a denied pod is never created and does not count as a failure).";
}

std::string held_for(std::chrono::nanoseconds held) {
  const auto rounded = std::chrono::duration_cast<std::chrono::milliseconds>(held);
  return format_duration(rounded);
}

std::string hint_for(read_outcome outcome, const setting_ref& setting) {
  switch (outcome) {
    case read_outcome::unauthorized:
      return " The API server did not accept the guard's credentials: check its service-account token.";
    case read_outcome::forbidden:
      return " Grant the guard's service account \"get\" on settings.longhorn.io named " + setting.name +
             " in namespace " + setting.namespace_name + " (the Role in the guard's manifests does exactly that).";
    case read_outcome::api_missing:
      return " The API longhorn.io/" + setting.api_version +
             " settings is not served: are the Longhorn CRDs installed, and does --setting-api-version match "
             "the installed Longhorn?";
    case read_outcome::timeout:
      return " The API server did not answer in time; it may be overloaded.";
    case read_outcome::unreachable:
      return " The API server could not be reached from the guard.";
    case read_outcome::tls_failure:
      return " The guard does not trust the API server's certificate: check the CA it was given.";
    case read_outcome::throttled:
      return " The API server is throttling the guard (API priority and fairness).";
    default:
      return "";
  }
}

}  // namespace

std::string confirm_command(const setting_ref& setting) {
  return "kubectl -n " + setting.namespace_name + " patch -p '{\"value\": \"true\"}' --type=merge lhs " + setting.name;
}

std::string flag_not_true_message(const setting_read& last, const uninstall_job& job, std::chrono::nanoseconds held) {
  const auto& setting = last.setting;
  std::string seen;
  if (last.outcome == read_outcome::setting_missing) {
    seen = "the Longhorn setting " + qualified_name(setting) +
           " does not exist, which longhorn-manager reads as \"false\" (longhorn-manager creates it at start-up: "
           "is Longhorn running?)";
  } else if (last.flag() == flag_value::invalid) {
    // describe_value, not describe: this sentence says itself how Longhorn reads the value.
    seen = "the Longhorn setting " + qualified_name(setting) + " reads " + describe_value(last) +
           ", which longhorn-manager does not accept as true (only true, True, TRUE, t, T and 1 are)";
  } else {
    seen = "the Longhorn setting " + qualified_name(setting) + " still reads " + describe_value(last);
  }
  // A patch of a setting that does not exist fails with NotFound: say when it will work.
  const std::string action = last.outcome == read_outcome::setting_missing
                                 ? " Once longhorn-manager has created the setting, confirm the uninstall with: "
                                 : " To confirm the uninstall, run: ";
  return "longhorn-uninstall-guard held this pod for " + held_for(held) + ", but " + seen +
         " in a fresh read from the API server, so longhorn-manager would refuse to uninstall." + action +
         confirm_command(setting) + "." + job_retries(job) + " Its next pod is admitted as soon as the flag reads true.";
}

std::string read_failed_message(const setting_ref& setting, const setting_read* last, const uninstall_job& job,
                                std::chrono::nanoseconds held) {
  std::string what = last != nullptr ? describe(*last) : "no read finished in time";
  return "longhorn-uninstall-guard could not read the Longhorn setting " + qualified_name(setting) +
         " from the API server (for " + held_for(held) + "), so it cannot confirm that the uninstall was "
         "intended and does not admit the pod: " + what + "." + hint_for(last ? last->outcome : read_outcome::timeout, setting) +
         job_retries(job);
}

std::string too_many_held_message(const setting_ref& setting, std::size_t limit, const uninstall_job& job) {
  return "longhorn-uninstall-guard is already holding " + std::to_string(limit) +
         " pods (its --max-held limit) waiting for the " + setting.name + " setting, so this one is denied at once." +
         job_retries(job);
}

std::string shutting_down_message(const setting_ref& setting, const uninstall_job& job) {
  return "longhorn-uninstall-guard is shutting down and stopped holding this pod before the " + setting.name +
         " setting read true." + job_retries(job);
}

}  // namespace lug::guard
