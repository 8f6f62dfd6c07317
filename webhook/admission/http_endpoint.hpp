// The adapter between HTTP and a review_handler, in the manner of controller-runtime's
// webhook http.go: check the Content-Type (415), decode the AdmissionReview (400 with a
// message when it is not one), read the API server's deadline from `?timeout=`, run the
// policy (an exception becomes an errored response that still echoes the uid), encode
// the answer, and write one log line per admission. Every answer, decided or rejected, is
// also told to a review_observer (metrics).
#pragma once

#include <string>

#include "admission/review_handler.hpp"
#include "admission/review_observer.hpp"
#include "transport/http_types.hpp"

namespace lug::admission {

// `endpoint` names the route in logs ("validate", "mutate"); `observer` is this endpoint's.
// The handler and the observer must outlive the returned handler.
transport::handler make_review_endpoint(std::string endpoint, review_handler& handler,
                                        review_observer& observer = ignore_reviews());

// True for "application/json" with or without parameters, in any letter case.
bool is_json_content_type(std::string_view content_type);

}  // namespace lug::admission
