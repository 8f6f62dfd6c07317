#include <doctest/doctest.h>

#include <string>

#include "admission/review.hpp"

using lug::admission::admission_request;
using lug::admission::decode_error;
using lug::admission::decode_review;
using lug::admission::decode_object;

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
  REQUIRE_FALSE(decoded.has_value());
  return decoded.error().message;
}

}  // namespace

TEST_SUITE("decoding an AdmissionReview") {
  TEST_CASE("a v1 review yields its uid, operation, kind, resource, namespace and object") {
    auto decoded = decode_review(review("admission.k8s.io/v1", pod_request));
    REQUIRE(decoded.has_value());
    const auto& r = *decoded;
    CHECK(r.review_api_version == "admission.k8s.io/v1");
    CHECK(r.uid == "u-1");
    CHECK(r.operation == "CREATE");
    CHECK(r.kind == "Pod");
    CHECK(r.resource == "pods");
    CHECK(r.namespace_name == "longhorn-system");
    CHECK(r.dry_run);
    CHECK(r.metadata.generate_name == "longhorn-uninstall-");
    CHECK(r.metadata.present);
    CHECK(r.object.is_null());  // built only on request (decode_object)
    CHECK(r.display_name() == "longhorn-uninstall-*");
  }
  TEST_CASE("a v1beta1 review is accepted and remembered so the answer is in kind") {
    auto decoded = decode_review(review("admission.k8s.io/v1beta1", pod_request));
    REQUIRE(decoded.has_value());
    CHECK(decoded->review_api_version == "admission.k8s.io/v1beta1");
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
    REQUIRE(decoded.has_value());
    const auto& r = *decoded;
    CHECK(r.operation.empty());
    CHECK(r.kind.empty());
    CHECK(r.namespace_name.empty());
    CHECK_FALSE(r.dry_run);
    CHECK(r.metadata.generate_name.empty());
    CHECK_FALSE(r.metadata.present);
  }
  TEST_CASE("invalid UTF-8 inside a string is a decode error, not a crash") {
    std::string body = review("admission.k8s.io/v1", R"({"uid":"u","namespace":"bad\xff"})");
    CHECK(error_of(body).find("not valid JSON") != std::string::npos);
  }
  TEST_CASE("nesting up to the limit decodes, and one level more is refused") {
    const auto nested = [](int depth) {
      return std::string(static_cast<std::size_t>(depth), '[') + std::string(static_cast<std::size_t>(depth), ']');
    };
    // A bare array is not an object: refused, but for that reason and not its depth.
    CHECK(error_of(nested(lug::admission::max_json_depth)).find("not an object") != std::string::npos);
    CHECK(error_of(nested(lug::admission::max_json_depth + 1)).find("deeper than 128") != std::string::npos);
  }
  TEST_CASE("nesting far deeper than the limit is refused without exhausting the stack") {
    const int depth = 200'000;
    std::string deep(static_cast<std::size_t>(depth), '[');
    deep += std::string(static_cast<std::size_t>(depth), ']');
    CHECK(error_of(deep).find("deeper than") != std::string::npos);
  }
}

TEST_SUITE("the object's metadata, read while decoding") {
  std::string with_object(const std::string& object) {
    return review("admission.k8s.io/v1", R"({"uid":"u","operation":"CREATE","object":)" + object + "}");
  }
  admission_request decoded(const std::string& body) {
    auto review = decode_review(body);
    REQUIRE(review.has_value());
    return std::move(review).value();
  }

  TEST_CASE("labels with string values, ownerReferences, name and generateName are read") {
    const auto r = decoded(with_object(
        R"({"kind":"Pod","spec":{"containers":[{"name":"c"}]},"metadata":{"name":"p-1","generateName":"p-",)"
        R"("labels":{"job-name":"longhorn-uninstall","n":7,"e":""},)"
        R"("ownerReferences":[{"apiVersion":"batch/v1","kind":"Job","name":"longhorn-uninstall","controller":true},)"
        R"({"apiVersion":"v1","kind":"Node","name":"n","controller":"true"},"junk"]}})"));
    CHECK(r.metadata.present);
    CHECK(r.metadata.name == "p-1");
    CHECK(r.name == "p-1");  // request.name absent: the object's name stands in
    CHECK(r.metadata.generate_name == "p-");
    REQUIRE(r.metadata.label("job-name") != nullptr);
    CHECK(*r.metadata.label("job-name") == "longhorn-uninstall");
    CHECK(r.metadata.label("n") == nullptr);  // a number is not a label value
    REQUIRE(r.metadata.label("e") != nullptr);
    CHECK(r.metadata.label("e")->empty());
    REQUIRE(r.metadata.owner_references.size() == 2);  // "junk" is not an owner
    CHECK(r.metadata.owner_references[0].controller);
    CHECK(r.metadata.owner_references[0].api_version == "batch/v1");
    CHECK(r.metadata.owner_references[0].name == "longhorn-uninstall");
    CHECK_FALSE(r.metadata.owner_references[1].controller);  // the string "true" is not true
  }
  TEST_CASE("a key given twice keeps its last value, as the API server reads it") {
    const auto r = decoded(with_object(
        R"({"metadata":{"labels":{"job-name":"a","job-name":"b"},"name":"x","name":"y"}})"));
    REQUIRE(r.metadata.label("job-name") != nullptr);
    CHECK(*r.metadata.label("job-name") == "b");
    CHECK(r.metadata.labels.size() == 1);
    CHECK(r.metadata.name == "y");
  }
  TEST_CASE("escaped keys and values are compared unescaped") {
    const auto r = decoded(with_object(R"({"metadata":{"labels":{"job\u002dname":"longhorn\u002duninstall"}}})"));
    REQUIRE(r.metadata.label("job-name") != nullptr);
    CHECK(*r.metadata.label("job-name") == "longhorn-uninstall");
  }
  TEST_CASE("a null or absent object has no metadata") {
    CHECK_FALSE(decoded(with_object("null")).metadata.present);
    CHECK_FALSE(decoded(review("admission.k8s.io/v1", R"({"uid":"u"})")).metadata.present);
  }
  TEST_CASE("decode_object builds the DOM of the object from the same body") {
    const auto body = with_object(R"({"metadata":{"name":"p"},"spec":{"containers":[{"name":"c"}]}})");
    auto r = decoded(body);
    CHECK(decode_object(body, r).has_value());
    CHECK(r.object.at("spec").at("containers").at(0).at("name") == "c");
  }
  TEST_CASE("a body the DOM parser refuses is an error from decode_object, not an exception") {
    admission_request r;
    const auto filled = decode_object("{not json", r);
    REQUIRE_FALSE(filled.has_value());
    CHECK(filled.error().message.find("request.object") != std::string::npos);
  }
  TEST_CASE("a big body decodes, and the next small one still does") {
    std::string big_value(1 << 20, 'x');
    const auto big = decoded(with_object(R"({"metadata":{"name":"big"},"data":")" + big_value + R"("})"));
    CHECK(big.metadata.name == "big");
    CHECK(decoded(with_object(R"({"metadata":{"name":"small"}})")).metadata.name == "small");
  }
}
