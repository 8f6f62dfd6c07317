// Fuzz target: the API server's answer to a fresh read of the Setting, and what the
// validating policy makes of it. Input: three ASCII digits of HTTP status, then the body
// ("200{\"kind\":\"Setting\",\"value\":\"true\"}"); without digits the status is 0.
//
// Invariants:
// - interpret_response() never throws; a read counts as true exactly when the API server
//   answered 2xx with a Setting whose value Go's strconv.ParseBool reads as true; a
//   refused read carries a message; describe() gives a line for every outcome;
// - the safety rule: an in-scope pod is allowed only on a read that said true, unless
//   --on-read-error=allow and no read answered at all; a read that answered and is not
//   true is a 403 denial under either setting; every other denial is a 503.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "admission/response.hpp"
#include "guard/flag_value.hpp"
#include "guard/setting_reader.hpp"
#include "invariants.hpp"
#include "quiet_logs.hpp"
#include "scripted_validator.hpp"

namespace {

using namespace lug;
using fuzz::require;

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// An in-scope pod: the Job controller's pod of the uninstall Job.
admission::admission_request in_scope_pod() {
  admission::admission_request request;
  request.review_api_version = std::string(admission::review_v1);
  request.uid = "705ab4f5-6393-11e8-b7cc-42010a800002";
  request.operation = "CREATE";
  request.kind_version = "v1";
  request.kind = "Pod";
  request.resource = "pods";
  request.namespace_name = "longhorn-system";
  request.metadata.present = true;
  request.metadata.set_label("job-name", "longhorn-uninstall");
  return request;
}

void check_decision(const guard::setting_read& read, guard::on_read_error read_errors) {
  static const auto request = in_scope_pod();
  const auto run = test::run_validator(request, {read, test::forbidden_read()}, test::immediate_policy(read_errors));
  const auto& decision = run.decision;
  require(run.reads >= 1, "an in-scope pod gets a fresh read", decision.log_reason);

  const bool allowed_on_error = read_errors == guard::on_read_error::allow && !read.answered();
  require(decision.allowed() == (read.is_true() || allowed_on_error),
          "an in-scope pod is allowed only on a true read (or an unanswered one with --on-read-error=allow)",
          decision.log_reason);
  if (!decision.allowed()) {
    require(decision.status.has_value(), "a denial has a status", decision.log_reason);
    require(decision.status->code == (read.answered() ? 403 : 503),
            "a read that answered denies with 403, one that failed with 503", decision.log_reason);
  }
  const auto encoded = admission::encode_review(request.review_api_version, request.uid, decision);
  fuzz::check_answer(encoded, request);
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  fuzz::quiet_logs(log::format::json);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  unsigned status = 0;
  if (input.size() >= 3 && is_digit(input[0]) && is_digit(input[1]) && is_digit(input[2])) {
    status = static_cast<unsigned>((input[0] - '0') * 100 + (input[1] - '0') * 10 + (input[2] - '0'));
    input.remove_prefix(3);
  }

  const auto read = guard::interpret_response(guard::setting_ref{}, status, input);
  require(read.http_status == status, "the read keeps the HTTP status");
  const bool success = status >= 200 && status < 300;
  require(!read.ok() || success, "only a 2xx answer reads the Setting", read.message);
  require(read.is_true() == (read.ok() && guard::parse_flag_value(read.value) == guard::flag_value::true_value),
          "a read is true exactly when its value parses as true", read.value);
  require(read.ok() || !read.message.empty(),
          "a refused read says what the API server said", guard::describe(read));
  require(!guard::describe(read).empty(), "every read can be described");

  check_decision(read, guard::on_read_error::deny);
  check_decision(read, guard::on_read_error::allow);
  return 0;
}
