#include "scripted_validator.hpp"

#include <algorithm>
#include <exception>
#include <optional>
#include <stdexcept>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace lug::test {
namespace {

using clock_type = std::chrono::steady_clock;

void expect(bool holds, const std::string& what) {
  if (!holds) throw std::logic_error("scripted validator: " + what);
}

// One for the whole process: creating an io_context per fuzz input costs more than the run.
boost::asio::io_context& io() {
  static boost::asio::io_context context;
  return context;
}

}  // namespace

boost::asio::awaitable<guard::setting_read> scripted_reads::read(clock_type::time_point) {
  expect(!script.empty(), "a read script has at least one read");
  auto answer = script[std::min<std::uint64_t>(made, script.size() - 1)];
  ++made;
  answer.started = clock_type::now();
  if (delay > std::chrono::nanoseconds::zero()) {
    boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor,
                                    std::chrono::duration_cast<clock_type::duration>(delay));
    co_await timer.async_wait(boost::asio::use_awaitable);
  }
  answer.finished = clock_type::now();
  co_return answer;
}

guard::setting_reads::read_function scripted_reads::function() {
  return [this](clock_type::time_point deadline) { return read(deadline); };
}

validator_run run_validator(const admission::admission_request& request, const std::vector<guard::setting_read>& script,
                            const guard::hold_policy& policy, const guard::uninstall_job& job) {
  expect(!script.empty(), "a read script has at least one read");
  scripted_reads api{script};
  guard::setting_reads reads(io().get_executor(), api.function(),
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
      expect(false, std::string("the validator does not throw, but threw: ") + e.what());
    }
  }
  expect(decision.has_value(), "the validator answers once its reads are done");
  expect(validating.held() == 0, "a finished review leaves no hold counted");
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

guard::setting_read failed_read(guard::read_outcome outcome) {
  guard::setting_read read;
  read.outcome = outcome;
  read.message = "scripted " + std::string(guard::to_string(outcome));
  return read;
}

}  // namespace lug::test
