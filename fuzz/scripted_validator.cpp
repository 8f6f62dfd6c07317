#include "scripted_validator.hpp"

#include <algorithm>
#include <chrono>
#include <exception>
#include <optional>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include "guard/validator.hpp"
#include "invariants.hpp"

namespace lug::fuzz {
namespace {

using clock_type = std::chrono::steady_clock;

boost::asio::awaitable<guard::setting_read> scripted_read(const std::vector<guard::setting_read>* script,
                                                          std::size_t* next) {
  const auto& read = (*script)[std::min(*next, script->size() - 1)];
  ++*next;
  co_return read;
}

// One for the whole process: creating an io_context per input costs more than the run.
boost::asio::io_context& io() {
  static boost::asio::io_context context;
  return context;
}

}  // namespace

validator_run run_validator(const admission::admission_request& request, const std::vector<guard::setting_read>& script,
                            const guard::hold_policy& policy, const guard::uninstall_job& job) {
  require(!script.empty(), "a read script has at least one read");
  std::size_t next = 0;
  guard::setting_reads reads(
      io().get_executor(), [&script, &next](clock_type::time_point) { return scripted_read(&script, &next); },
      std::chrono::duration_cast<clock_type::duration>(guard::max_read_time));
  guard::validator validating(job, guard::setting_ref{}, policy, reads);

  // The request arrived a moment ago: a read started now is strictly newer, whatever the
  // clock's resolution.
  const admission::review_context context{"validate", clock_type::now() - std::chrono::milliseconds(1), std::nullopt};
  std::optional<admission::admission_response> decision;
  std::exception_ptr failure;
  boost::asio::co_spawn(io(), validating.review(request, context),
                        [&](std::exception_ptr error, admission::admission_response response) {
                          failure = error;
                          decision = std::move(response);
                        });
  io().restart();
  io().run();

  if (failure) {
    try {
      std::rethrow_exception(failure);
    } catch (const std::exception& e) {
      fail("the validator does not throw", e.what());
    }
  }
  require(decision.has_value(), "the validator answers once its reads are done");
  require(validating.held() == 0, "a finished review leaves no hold counted");
  return {std::move(*decision), reads.reads_started()};
}

guard::hold_policy immediate_policy(guard::on_read_error read_errors) {
  guard::hold_policy policy;
  policy.poll_interval = std::chrono::nanoseconds{0};
  policy.read_errors = read_errors;
  return policy;
}

guard::setting_read value_read(std::string value) {
  guard::setting_read read;
  read.outcome = guard::read_outcome::ok;
  read.http_status = 200;
  read.value = std::move(value);
  read.resource_version = "4242";
  return read;
}

guard::setting_read forbidden_read() {
  guard::setting_read read;
  read.outcome = guard::read_outcome::forbidden;
  read.http_status = 403;
  read.message = "settings.longhorn.io \"deleting-confirmation-flag\" is forbidden";
  return read;
}

}  // namespace lug::fuzz
