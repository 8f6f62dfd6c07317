// Fuzz target: an AdmissionReview body, as POSTed to /validate and /mutate, through
// decoding, the guard's scope decision, both policies and the encoded answer.
//
// Invariants:
// - decoding either fails with a message or yields a request with a uid and a known
//   review apiVersion;
// - the mutator never denies; out of scope it never patches; a patch applies to the pod
//   and puts the guard's init container first, keeps the pod's own init containers in
//   order and touches nothing else; deciding again on the patched pod patches nothing
//   (the API server may call a mutating webhook twice);
// - the validator allows an out-of-scope request without any read; in scope it asks for
//   a fresh read, allows when the read says true and denies (403) when it says false;
// - every answer encodes to an AdmissionReview that echoes the request's apiVersion and
//   uid (see invariants.hpp).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "admission/response.hpp"
#include "admission/review.hpp"
#include "guard/init_container.hpp"
#include "guard/mutator.hpp"
#include "guard/scope.hpp"
#include "invariants.hpp"
#include "quiet_logs.hpp"
#include "scripted_validator.hpp"

namespace {

using namespace lug;
using fuzz::require;

// The encoded answer says what the decision says.
void check_encoded(const admission::admission_request& request, const admission::admission_response& decision) {
  const auto encoded = admission::encode_review(request.review_api_version, request.uid, decision);
  const auto response = fuzz::check_answer(encoded, request);
  require(response.at("allowed").get<bool>() == decision.allowed(), "the encoded answer keeps the decision", encoded);
  require(response.contains("patch") == decision.patch.has_value(), "the encoded answer keeps the patch", encoded);
  if (decision.patch) {
    require(fuzz::base64_decode(response.at("patch").get<std::string>()) == *decision.patch,
            "the encoded patch decodes to the patch decided", encoded);
  }
}

void check_mutator(const admission::admission_request& request, bool in_scope) {
  static const guard::mutator mutating{guard::uninstall_job{},
                                       guard::init_container_spec{.image = "example.org/guard:fuzz"}};
  const auto decision = mutating.decide(request);
  require(decision.allowed(), "the mutator never denies", decision.log_reason);
  check_encoded(request, decision);
  if (!decision.patch) return;

  require(in_scope, "the mutator patches only in-scope pods", decision.log_reason);
  require(!guard::has_init_container(request.object), "a pod that has the init container is not patched again");
  const auto patched_pod = fuzz::check_patch(request.object, *decision.patch);
  require(guard::has_init_container(patched_pod), "the patched pod has the init container");

  auto again = request;
  again.object = patched_pod;
  require(!mutating.decide(again).patch, "deciding again on the patched pod patches nothing");
}

void check_validator(const admission::admission_request& request, bool in_scope) {
  const auto confirmed = test::run_validator(request, {test::value_read("true")}, test::immediate_policy());
  require(confirmed.decision.allowed(), "a pod is allowed when the flag reads true", confirmed.decision.log_reason);
  require(in_scope == (confirmed.reads > 0), "a fresh read is made exactly for in-scope pods",
          confirmed.decision.log_reason);
  check_encoded(request, confirmed.decision);

  const auto refused = test::run_validator(request, {test::value_read("false"), test::forbidden_read()},
                                           test::immediate_policy());
  if (in_scope) {
    require(!refused.decision.allowed(), "an in-scope pod is denied while the flag reads false",
            refused.decision.log_reason);
    require(refused.decision.status && refused.decision.status->code == 403,
            "a flag that reads false is a 403 denial", refused.decision.log_reason);
  } else {
    require(refused.decision.allowed() && refused.reads == 0, "an out-of-scope pod is allowed without a read",
            refused.decision.log_reason);
  }
  check_encoded(request, refused.decision);
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  fuzz::quiet_logs(log::format::text);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  auto decoded = admission::decode_review(body);
  if (!decoded) {
    require(!decoded.error().message.empty(), "a decode error says what is wrong");
    return 0;
  }
  auto& request = *decoded;
  fuzz::check_decoded_object(body, request);
  require(!request.uid.empty(), "a decoded request has a uid");
  require(request.review_api_version == admission::review_v1 || request.review_api_version == admission::review_v1beta1,
          "a decoded request has a known review apiVersion", request.review_api_version);

  const auto scope = guard::classify(request, guard::uninstall_job{});
  require(!scope.why.empty(), "the scope decision says why");
  check_mutator(request, scope.in_scope);
  check_validator(request, scope.in_scope);
  return 0;
}
