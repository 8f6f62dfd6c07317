// The validating policy run in-process, its fresh reads answered from a script instead of
// the API server, for the unit tests (tests/unit) and the fuzz targets (fuzz/) alike, so
// both exercise the guard through the same stand-in.
//
// A script is a list of reads: the n-th read returns script[n] and the last entry repeats.
// Scripts run by run_validator should end with a read that ends a hold (true, or a 403)
// so that no run waits for the hold deadline.
//
// A broken expectation of the stand-in itself (an empty script, a validator that throws,
// never answers or leaves a hold counted) throws std::logic_error: a unit test reports it
// as a failure, and a fuzz target aborts on it, which libFuzzer keeps as a crash.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "admission/response.hpp"
#include "admission/review.hpp"
#include "guard/hold_policy.hpp"
#include "guard/scope.hpp"
#include "guard/setting_reader.hpp"
#include "guard/validator.hpp"

namespace lug::test {

// The API server's answers to fresh reads, from a script.
struct scripted_reads {
  std::vector<guard::setting_read> script;  // the n-th read answers script[n]; the last repeats
  std::chrono::nanoseconds delay{0};        // how long each read takes (on a timer of its executor)
  std::uint64_t made = 0;                   // reads answered so far

  boost::asio::awaitable<guard::setting_read> read(std::chrono::steady_clock::time_point deadline);

  // The read function for a guard::setting_reads; this object must outlive it.
  guard::setting_reads::read_function function();
};

struct validator_run {
  admission::admission_response decision;
  std::uint64_t reads = 0;  // fresh reads the validator asked for
};

// Runs guard::validator::review to completion on a private io_context, for a request that
// arrived a moment ago with no ?timeout.
validator_run run_validator(const admission::admission_request& request, const std::vector<guard::setting_read>& script,
                            const guard::hold_policy& policy, const guard::uninstall_job& job = {});

// A policy that re-reads at once, so a script plays out without waiting.
guard::hold_policy immediate_policy(guard::on_read_error read_errors = guard::on_read_error::deny);

// A Setting read that answered with `value`.
guard::setting_read value_read(std::string value);
// A read the API server refused with 403: it ends a hold at once.
guard::setting_read forbidden_read();
// A read that got no answer (`outcome` is not ok): retried until the hold's deadline.
guard::setting_read failed_read(guard::read_outcome outcome);

}  // namespace lug::test
