// The HTTP adapter around a review handler (admission/http_endpoint.hpp), in process with a
// fake handler, as controller-runtime's pkg/webhook/admission/http_test.go tests its own:
// what is refused before the handler runs (415, 400), what the handler is given (the
// decoded request, the endpoint's name, the API server's ?timeout), and what goes back
// (the uid and apiVersion echoed; a handler that throws becomes an errored answer). The
// method is the router's to check (test_transport_router.cpp), the body's size the
// request reader's (transport/limits.hpp).
#include <doctest/doctest.h>

#include <chrono>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "admission/http_endpoint.hpp"
#include "run_awaitable.hpp"

namespace {

using namespace std::chrono_literals;
using nlohmann::json;
namespace http = lug::transport::http;
using lug::admission::admission_request;
using lug::admission::admission_response;
using lug::admission::review_context;
using lug::admission::review_outcome;

// Answers `answer` (or throws, when `failure` is set) and remembers what it was given.
struct fake_handler final : lug::admission::review_handler {
  admission_response answer = lug::admission::allowed("fake");
  std::optional<std::string> failure;
  bool wants = false;

  int calls = 0;
  std::optional<admission_request> request;
  std::string endpoint;
  std::optional<std::chrono::nanoseconds> api_timeout;

  boost::asio::awaitable<admission_response> review(const admission_request& given,
                                                    const review_context& context) override {
    ++calls;
    request = given;
    endpoint = std::string(context.endpoint);
    api_timeout = context.api_timeout;
    if (failure) throw std::runtime_error(*failure);
    co_return answer;
  }
  bool wants_object(const admission_request&) const override { return wants; }
};

struct recorded_reviews final : lug::admission::review_observer {
  std::vector<review_outcome> outcomes;
  void reviewed(review_outcome outcome, std::chrono::nanoseconds) override { outcomes.push_back(outcome); }
};

std::string review_body(const std::string& api_version = "admission.k8s.io/v1", const std::string& uid = "uid-42") {
  return json{{"apiVersion", api_version},
              {"kind", "AdmissionReview"},
              {"request",
               {{"uid", uid},
                {"operation", "CREATE"},
                {"kind", {{"group", ""}, {"version", "v1"}, {"kind", "Pod"}}},
                {"resource", {{"group", ""}, {"version", "v1"}, {"resource", "pods"}}},
                {"namespace", "default"},
                {"object", {{"kind", "Pod"}, {"apiVersion", "v1"}, {"metadata", {{"name", "web"}}}}}}}}
      .dump();
}

struct fixture {
  fake_handler handler;
  recorded_reviews observer;
  lug::transport::handler endpoint = lug::admission::make_review_endpoint("validate", handler, observer);

  lug::transport::response post(std::string body, std::optional<std::string> content_type = "application/json",
                                std::string target = "/validate?timeout=10s") {
    lug::transport::request req{http::verb::post, target, 11};
    if (content_type) req.set(http::field::content_type, *content_type);
    req.body() = std::move(body);
    req.prepare_payload();
    const lug::transport::request_context ctx{"192.0.2.1:40000", std::chrono::steady_clock::now(), nullptr};
    return lug::test::run_awaitable(endpoint(req, ctx));
  }
};

json status_of(const lug::transport::response& res) { return json::parse(res.body()); }

}  // namespace

TEST_SUITE("admission http endpoint") {
  TEST_CASE("should take application/json with or without parameters, in any letter case, and nothing else") {
    for (const char* type : {"application/json", "application/json; charset=utf-8", "application/json;charset=UTF-8",
                             "Application/JSON", " application/json ", "application/json ;charset=utf-8",
                             "application/json;"}) {
      CAPTURE(type);
      CHECK(lug::admission::is_json_content_type(type));
    }
    for (const char* type : {"", " ", ";", "text/plain", "application/jsonx", "application/json-patch+json",
                             "application/*", "*/*", "json", "application/ json", "application /json",
                             "text/json", "application/yaml; application/json"}) {
      CAPTURE(type);
      CHECK_FALSE(lug::admission::is_json_content_type(type));
    }
  }

  TEST_CASE("should return unsupported-media-type when given the wrong content-type") {
    fixture f;
    const auto res = f.post(review_body(), "text/plain");
    CHECK(res.result() == http::status::unsupported_media_type);
    CHECK(status_of(res).at("message") == R"(Content-Type must be application/json, got "text/plain")");
    CHECK(status_of(res).at("code") == 415);
    CHECK(f.handler.calls == 0);
    CHECK(f.observer.outcomes == std::vector{review_outcome::rejected});
  }

  TEST_CASE("should return unsupported-media-type when the content-type is missing") {
    fixture f;
    const auto res = f.post(review_body(), std::nullopt);
    CHECK(res.result() == http::status::unsupported_media_type);
    CHECK(status_of(res).at("message") == R"(Content-Type must be application/json, got "")");
    CHECK(f.handler.calls == 0);
  }

  TEST_CASE("should accept a content-type with parameters and in another letter case") {
    fixture f;
    CHECK(f.post(review_body(), "Application/JSON; charset=utf-8").result() == http::status::ok);
    CHECK(f.handler.calls == 1);
  }

  TEST_CASE("should return bad-request when given a body that is no AdmissionReview") {
    struct row {
      std::string body;
      std::string message;
    };
    for (const auto& [body, message] : {
             row{"", "request body is empty"},
             row{"{", "request body is not valid JSON"},
             row{"[]", "request body is JSON but not an object"},
             row{R"({"apiVersion":"v1","kind":"Pod"})", "request body is not an AdmissionReview"},
             row{R"({"apiVersion":"admission.k8s.io/v2","kind":"AdmissionReview","request":{"uid":"u"}})",
                 "unsupported AdmissionReview apiVersion"},
             row{review_body("admission.k8s.io/v1", ""), "AdmissionReview request has no uid"},
         }) {
      CAPTURE(body);
      fixture f;
      const auto res = f.post(body);
      CHECK(res.result() == http::status::bad_request);
      CHECK(status_of(res).at("message").get<std::string>().starts_with(message));
      CHECK(status_of(res).at("reason") == "BadRequest");
      CHECK(f.handler.calls == 0);
      CHECK(f.observer.outcomes == std::vector{review_outcome::rejected});
    }
  }

  TEST_CASE("should echo the uid and apiVersion of the request") {
    for (const char* api_version : {"admission.k8s.io/v1", "admission.k8s.io/v1beta1"}) {
      CAPTURE(api_version);
      fixture f;
      const auto res = f.post(review_body(api_version, "3c1f7e0a-uid"));
      REQUIRE(res.result() == http::status::ok);
      CHECK(res[http::field::content_type] == "application/json");
      const auto review = json::parse(res.body());
      CHECK(review.at("apiVersion") == api_version);
      CHECK(review.at("kind") == "AdmissionReview");
      CHECK(review.at("response").at("uid") == "3c1f7e0a-uid");
      CHECK(review.at("response").at("allowed") == true);
      CHECK(f.observer.outcomes == std::vector{review_outcome::allowed});
    }
  }

  TEST_CASE("should send the handler's decision, and tell the observer what it was") {
    fixture f;
    f.handler.answer = lug::admission::denied(403, "not yet", "flag false");
    const auto review = json::parse(f.post(review_body()).body());
    CHECK(review.at("response").at("allowed") == false);
    CHECK(review.at("response").at("status").at("code") == 403);
    CHECK(review.at("response").at("status").at("message") == "not yet");
    CHECK(f.observer.outcomes == std::vector{review_outcome::denied});
  }

  TEST_CASE("should return an errored answer, uid still echoed, when the handler throws") {
    fixture f;
    f.handler.failure = "the API client is gone";
    const auto res = f.post(review_body("admission.k8s.io/v1", "uid-7"));
    CHECK(res.result() == http::status::ok);  // an answer the API server reads, not a transport error
    const auto response = json::parse(res.body()).at("response");
    CHECK(response.at("uid") == "uid-7");
    CHECK(response.at("allowed") == false);
    CHECK(response.at("status").at("code") == 500);
    CHECK(response.at("status").at("message") == "the webhook failed to decide: the API client is gone");
    CHECK(f.observer.outcomes == std::vector{review_outcome::errored});
  }

  TEST_CASE("should give the handler the decoded request and the endpoint's name") {
    fixture f;
    f.post(review_body("admission.k8s.io/v1", "uid-9"));
    REQUIRE(f.handler.request.has_value());
    CHECK(f.handler.request->uid == "uid-9");
    CHECK(f.handler.request->kind == "Pod");
    CHECK(f.handler.request->metadata.name == "web");
    CHECK(f.handler.endpoint == "validate");
  }

  TEST_CASE("should build the object's DOM only for a handler that reads it") {
    fixture f;
    SUBCASE("not wanted") {
      f.post(review_body());
      REQUIRE(f.handler.request.has_value());
      CHECK(f.handler.request->object.is_null());
    }
    SUBCASE("wanted") {
      f.handler.wants = true;
      f.post(review_body());
      REQUIRE(f.handler.request.has_value());
      CHECK(f.handler.request->object.at("metadata").at("name") == "web");
    }
  }

  TEST_CASE("should pass the API server's ?timeout to the handler, and none when it cannot be read") {
    struct row {
      std::string target;
      std::optional<std::chrono::nanoseconds> api_timeout;
    };
    for (const auto& [target, api_timeout] : {
             row{"/validate?timeout=10s", 10s},
             row{"/validate?timeout=1m30s", 90s},
             row{"/validate?timeout=2500ms", 2500ms},
             row{"/validate?dryRun=All&timeout=5s", 5s},
             row{"/validate?timeout=5s&timeout=7s", 5s},  // repeated: the first
             row{"/validate", std::nullopt},               // absent: the hold assumes 10 s
             row{"/validate?timeout=", std::nullopt},
             row{"/validate?timeout=10", std::nullopt},  // malformed: treated as absent
             row{"/validate?timeout=ten", std::nullopt},
             row{"/validate?timeout=-5s", std::nullopt},
             row{"/validate?timeout=10%73", std::nullopt},  // not decoded: kube-apiserver never encodes it
         }) {
      CAPTURE(target);
      fixture f;
      REQUIRE(f.post(review_body(), "application/json", target).result() == http::status::ok);
      CHECK(f.handler.api_timeout == api_timeout);
    }
  }
}
