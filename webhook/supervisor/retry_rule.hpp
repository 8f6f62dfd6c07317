// The supervisor's one decision: run the command again, or pass its result through.
//
// longhorn-manager `uninstall` checks deleting-confirmation-flag through a Settings informer
// it never waits for (longhorn/longhorn#10483). Before that informer's first list arrives the
// flag reads as its default, "false", the check fails and the process exits 1 through
// logrus.Fatalln. The check runs before anything is deleted and before the controller logs
// "Uninstalling...", so an attempt that printed the refusal and not that line changed
// nothing, and running it again is as safe as the Job's next pod. Every other ending is
// passed through as it is. longhorn-manager stays the authority: if the flag really is
// false, every attempt is refused and the last refusal is passed through.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

namespace lug::supervisor {

// What longhorn-manager prints when the flag read not true (controller/uninstall_controller.go,
// checkPreconditions, v1.8 to v1.12). logrus quotes the message, so it is matched as a
// substring of a log line, never as a whole line.
inline constexpr std::string_view flag_refusal_marker =
    "cannot uninstall Longhorn because deleting-confirmation-flag is set to";
// Logged by UninstallController.Run only once the preconditions passed: from here on the
// uninstall deletes things, and an attempt is never repeated.
inline constexpr std::string_view uninstall_started_marker = "Uninstalling...";

// The exit code of logrus.Fatalln, the only way the refusal ends the process.
inline constexpr int refusal_exit_code = 1;

// Each attempt is a fresh longhorn-manager process whose informers race anew; the race is
// lost rarely (a few percent of uninstalls), so five attempts make losing every one
// vanishingly unlikely, while a flag that really is false costs only a few seconds more
// before the pod fails exactly as it would have.
inline constexpr int default_attempts = 5;
// Bound on --attempts: with the longest pauses the flags allow (max_first_delay each),
// twenty attempts wait under ten minutes in all, inside the uninstall Job's
// activeDeadlineSeconds (900 s).
inline constexpr int max_attempts = 20;

// The first retry waits this long, each later one twice as long as the one before. The
// pause gives an API server that was slow to answer the informers' lists (the condition
// that makes the race likely) a moment; a second is about what longhorn-manager's own
// start-up takes.
inline constexpr std::chrono::milliseconds default_first_delay{1000};
// No pause grows beyond this: the refusal costs the cluster nothing, and a longer wait only
// delays an uninstall the user already confirmed.
inline constexpr std::chrono::milliseconds max_retry_delay{10000};
// Bound on --delay: with it, max_attempts attempts still fit in the Job's deadline (above).
inline constexpr std::chrono::milliseconds max_first_delay{30000};

// How one run of the command ended, and what it printed.
struct attempt_result {
  bool killed = false;  // ended by a signal rather than by exiting
  int code = 0;         // the exit code, or the signal number when killed
  bool printed_flag_refusal = false;
  bool printed_uninstall_started = false;
};

// The status the supervisor exits with for this attempt: its exit code, or 128 + signal as
// a shell reports a killed command.
int exit_status(const attempt_result& result);

// What the rule says about one attempt: retry, or why not.
enum class verdict {
  retry,               // refused the uninstall before deleting anything, attempts left
  stopping,            // SIGTERM or SIGINT arrived: a command told to stop is never run again
  killed,              // ended by a signal
  other_exit,          // exited with another status than 1
  other_failure,       // exited 1 without printing the refusal
  uninstall_started,   // printed "Uninstalling...": it may have deleted things
  attempts_exhausted,  // refused, but this was the last attempt
};

// attempt is 1-based; attempts is the --attempts bound; stopping is true once SIGTERM or
// SIGINT arrived.
verdict decide_retry(const attempt_result& result, int attempt, int attempts, bool stopping);

// The pause before retry number `retry` (1 for the pause before the second attempt):
// first_delay doubled per earlier retry, capped at max_retry_delay (or at first_delay when
// that is larger).
std::chrono::milliseconds delay_before_retry(std::chrono::milliseconds first_delay, int retry);

// The supervisor's log line announcing a retry: why, which attempt comes next, after how long.
std::string retry_announcement(int next_attempt, int attempts, std::chrono::milliseconds delay);

// "2s", "1500ms", "0s": how the supervisor writes a delay (the form --delay reads).
std::string format_delay(std::chrono::milliseconds delay);

}  // namespace lug::supervisor
