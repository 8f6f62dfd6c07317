#include "supervisor/retry_rule.hpp"

#include <algorithm>

namespace lug::supervisor {

int exit_status(const attempt_result& result) { return result.killed ? 128 + result.code : result.code; }

verdict decide_retry(const attempt_result& result, int attempt, int attempts, bool stopping) {
  if (stopping) return verdict::stopping;
  if (result.killed) return verdict::killed;
  if (result.code != refusal_exit_code) return verdict::other_exit;
  if (!result.printed_flag_refusal) return verdict::other_failure;
  if (result.printed_uninstall_started) return verdict::uninstall_started;
  if (attempt >= attempts) return verdict::attempts_exhausted;
  return verdict::retry;
}

std::chrono::milliseconds delay_before_retry(std::chrono::milliseconds first_delay, int retry) {
  const auto cap = std::max(first_delay, max_retry_delay);
  auto delay = first_delay;
  for (int i = 1; i < retry && delay < cap; ++i) delay *= 2;
  return std::min(delay, cap);
}

std::string format_delay(std::chrono::milliseconds delay) {
  const auto ms = delay.count();
  if (ms % 1000 == 0) return std::to_string(ms / 1000) + "s";
  return std::to_string(ms) + "ms";
}

std::string retry_announcement(int next_attempt, int attempts, std::chrono::milliseconds delay) {
  return "longhorn-manager exited 1 refusing the uninstall because deleting-confirmation-flag read not true, "
         "before deleting anything; its Settings cache may not have synced yet (longhorn/longhorn#10483), "
         "so attempt " +
         std::to_string(next_attempt) + " of " + std::to_string(attempts) + " starts in " + format_delay(delay);
}

}  // namespace lug::supervisor
