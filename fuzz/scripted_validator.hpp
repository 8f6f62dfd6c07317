// The validating policy run in-process, its fresh reads answered from a script instead of
// the API server: the n-th read returns script[n] (the last entry repeats), so a fuzz
// target decides what the API server said and checks what the guard made of it. Scripts
// should end with a read that ends a hold (true, or a 403) so that no run waits for the
// hold deadline.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "admission/response.hpp"
#include "admission/review.hpp"
#include "guard/hold_policy.hpp"
#include "guard/scope.hpp"
#include "guard/setting_reader.hpp"

namespace lug::fuzz {

struct validator_run {
  admission::admission_response decision;
  std::uint64_t reads = 0;  // fresh reads the validator asked for
};

// Runs guard::validator::review to completion on a private io_context; requires that it
// neither throws nor leaves a hold counted.
validator_run run_validator(const admission::admission_request& request, const std::vector<guard::setting_read>& script,
                            const guard::hold_policy& policy, const guard::uninstall_job& job = {});

// A policy that re-reads at once, so a script plays out without waiting.
guard::hold_policy immediate_policy(guard::on_read_error read_errors = guard::on_read_error::deny);

// A Setting read that answered with `value`.
guard::setting_read value_read(std::string value);
// A read the API server refused with 403: it ends a hold at once.
guard::setting_read forbidden_read();

}  // namespace lug::fuzz
