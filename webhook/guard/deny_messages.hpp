// The words a user reads when the guard turns a pod away (in `kubectl describe job`
// events and the Job controller's log). Each says what was seen, what to do, and that
// the Job retries by itself, so nobody deletes and re-creates the Job by hand.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>

#include "guard/scope.hpp"
#include "guard/setting_reader.hpp"

namespace lug::guard {

// The exact command that confirms the uninstall.
std::string confirm_command(const setting_ref& setting);

// The last fresh read answered, and the value is not one Longhorn reads as true.
std::string flag_not_true_message(const setting_read& last, const uninstall_job& job, std::chrono::nanoseconds held);

// No read gave an answer (the last attempt's failure is in `last`, when there was one).
std::string read_failed_message(const setting_ref& setting, const setting_read* last, const uninstall_job& job,
                                std::chrono::nanoseconds held);

std::string too_many_held_message(const setting_ref& setting, std::size_t limit, const uninstall_job& job);

std::string shutting_down_message(const setting_ref& setting, const uninstall_job& job);

}  // namespace lug::guard
