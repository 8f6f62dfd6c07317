// What every answer of the webhook must satisfy, whatever the input, checked by the fuzz
// targets. A broken invariant prints what broke and aborts, so libFuzzer keeps the input
// as a crash artifact just as it does for a sanitizer report.
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "admission/review.hpp"

namespace lug::fuzz {

[[noreturn]] void fail(std::string_view what, std::string_view detail = {});

inline void require(bool holds, std::string_view what, std::string_view detail = {}) {
  if (!holds) fail(what, detail);
}

// Strict RFC 4648 base64 (with padding), as the API server decodes the `patch` field.
std::string base64_decode(std::string_view text);

// Decoding in two steps agrees with itself: when decode_review accepted `body`,
// decode_object accepts it too (simdjson and nlohmann agree it is JSON), and the metadata
// decode_review copied out is what the object's DOM says (name, generateName, the
// string-valued labels, the object-valued ownerReferences). Fills request.object.
void check_decoded_object(std::string_view body, admission::admission_request& request);

// The AdmissionReview an endpoint encoded in answer to `request`: a JSON object of kind
// AdmissionReview in the request's apiVersion whose response echoes the request's uid;
// `allowed` a boolean; a denial carries a status with a code >= 400 and a message; a patch
// comes with patchType JSONPatch and is base64 of a JSON array; warnings are strings.
// Returns the `response` object.
nlohmann::json check_answer(std::string_view body, const admission::admission_request& request);

// The pod as the API server stores it after applying `patch_text` (RFC 6902) to `pod`: the
// guard's init container first, the pod's own init containers after it in their order; at
// most the supervisor's volume added, and in the containers running longhorn-manager
// uninstall the command wrapped once and that volume mounted read-only; everything else
// untouched. Returns the patched pod.
nlohmann::json check_patch(const nlohmann::json& pod, std::string_view patch_text);

}  // namespace lug::fuzz
