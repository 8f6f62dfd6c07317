#include <doctest/doctest.h>

#include <string>

#include "admission/review.hpp"

using lug::admission::admission_request;
using lug::admission::decode_error;
using lug::admission::decode_review;
using lug::admission::json_depth;

namespace {

std::string review(const std::string& api_version, const std::string& request) {
  return R"({"apiVersion":")" + api_version + R"(","kind":"AdmissionReview","request":)" + request + "}";
}

const std::string pod_request =
    R"({"uid":"u-1","operation":"CREATE","kind":{"group":"","version":"v1","kind":"Pod"},)"
    R"("resource":{"group":"","version":"v1","resource":"pods"},"namespace":"longhorn-system","dryRun":true,)"
    R"("object":{"metadata":{"generateName":"longhorn-uninstall-"}}})";

std::string error_of(std::string_view body) {
  auto decoded = decode_review(body);
  REQUIRE(std::holds_alternative<decode_error>(decoded));
  return std::get<decode_error>(decoded).message;
}

}  // namespace

TEST_SUITE("decoding an AdmissionReview") {
  TEST_CASE("a v1 review yields its uid, operation, kind, resource, namespace and object") {
    auto decoded = decode_review(review("admission.k8s.io/v1", pod_request));
    REQUIRE(std::holds_alternative<admission_request>(decoded));
    const auto& r = std::get<admission_request>(decoded);
    CHECK(r.review_api_version == "admission.k8s.io/v1");
    CHECK(r.uid == "u-1");
    CHECK(r.operation == "CREATE");
    CHECK(r.kind == "Pod");
    CHECK(r.resource == "pods");
    CHECK(r.namespace_name == "longhorn-system");
    CHECK(r.dry_run);
    CHECK(r.generate_name == "longhorn-uninstall-");
    CHECK(r.display_name() == "longhorn-uninstall-*");
  }
  TEST_CASE("a v1beta1 review is accepted and remembered so the answer is in kind") {
    auto decoded = decode_review(review("admission.k8s.io/v1beta1", pod_request));
    REQUIRE(std::holds_alternative<admission_request>(decoded));
    CHECK(std::get<admission_request>(decoded).review_api_version == "admission.k8s.io/v1beta1");
  }
  TEST_CASE("an empty body is rejected with a message saying what to send") {
    CHECK(error_of("").find("empty") != std::string::npos);
  }
  TEST_CASE("a body that is not JSON is rejected naming the parse error") {
    CHECK(error_of("{not json").find("not valid JSON") != std::string::npos);
  }
  TEST_CASE("JSON that is not an AdmissionReview is rejected") {
    CHECK(error_of(R"({"kind":"Pod"})").find("not an AdmissionReview") != std::string::npos);
    CHECK(error_of("[1,2]").find("not an object") != std::string::npos);
  }
  TEST_CASE("an unknown AdmissionReview version is rejected naming the supported ones") {
    CHECK(error_of(review("admission.k8s.io/v2", pod_request)).find("v1beta1") != std::string::npos);
  }
  TEST_CASE("a review without a string uid is rejected because there is nothing to answer to") {
    CHECK(error_of(review("admission.k8s.io/v1", R"({"operation":"CREATE"})")).find("uid") != std::string::npos);
    CHECK(error_of(review("admission.k8s.io/v1", R"({"uid":42})")).find("uid") != std::string::npos);
    CHECK(error_of(review("admission.k8s.io/v1", R"({"uid":""})")).find("uid") != std::string::npos);
    CHECK(error_of(R"({"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":null})")
              .find("no request") != std::string::npos);
  }
  TEST_CASE("inner fields of the wrong type read as absent instead of failing") {
    auto decoded = decode_review(review(
        "admission.k8s.io/v1",
        R"({"uid":"u","operation":7,"kind":"Pod","namespace":["x"],"dryRun":"yes","object":{"metadata":"str"}})"));
    REQUIRE(std::holds_alternative<admission_request>(decoded));
    const auto& r = std::get<admission_request>(decoded);
    CHECK(r.operation.empty());
    CHECK(r.kind.empty());
    CHECK(r.namespace_name.empty());
    CHECK_FALSE(r.dry_run);
    CHECK(r.generate_name.empty());
  }
  TEST_CASE("invalid UTF-8 inside a string is a decode error, not a crash") {
    std::string body = review("admission.k8s.io/v1", R"({"uid":"u","namespace":"bad\xff"})");
    CHECK(error_of(body).find("not valid JSON") != std::string::npos);
  }
  TEST_CASE("nesting deeper than the limit is refused before parsing") {
    const int depth = 200'000;
    std::string deep(static_cast<std::size_t>(depth), '[');
    deep += std::string(static_cast<std::size_t>(depth), ']');
    CHECK(error_of(deep).find("deeper than") != std::string::npos);
  }
}

TEST_SUITE("measuring JSON depth") {
  TEST_CASE("brackets inside strings and escaped quotes do not count") {
    CHECK(json_depth(R"({"a":"[[[[\"{{"})", 10) == 1);
    CHECK(json_depth(R"([[{"a":[1]}]])", 10) == 4);
    CHECK(json_depth("42", 10) == 0);
  }
  TEST_CASE("the scan stops as soon as the limit is passed") { CHECK(json_depth("[[[[[[[[", 3) == 4); }
}
