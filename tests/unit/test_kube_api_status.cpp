// What the API server said when it refused a request, from metav1.Status or anything else.
#include <doctest/doctest.h>

#include <string>

#include "kube/api_status.hpp"

using lug::kube::parse_api_status;

TEST_CASE("a NotFound Status for an object gives its message, reason, code and details") {
  const auto status = parse_api_status(
      404,
      R"({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",)"
      R"("message":"settings.longhorn.io \"deleting-confirmation-flag\" not found","reason":"NotFound",)"
      R"("details":{"name":"deleting-confirmation-flag","group":"longhorn.io","kind":"settings"},"code":404})");
  CHECK(status.from_status_object);
  CHECK(status.message == R"(settings.longhorn.io "deleting-confirmation-flag" not found)");
  CHECK(status.reason == "NotFound");
  CHECK(status.code == 404);
  CHECK(status.details_kind == "settings");
  CHECK(status.details_name == "deleting-confirmation-flag");
}

TEST_CASE("a NotFound Status for an unserved path has no details name") {
  const auto status = parse_api_status(
      404, R"({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",)"
           R"("message":"the server could not find the requested resource","reason":"NotFound","details":{},"code":404})");
  CHECK(status.message == "the server could not find the requested resource");
  CHECK(status.details_name.empty());
}

TEST_CASE("a Forbidden Status keeps the RBAC explanation") {
  const auto status = parse_api_status(
      403, R"({"kind":"Status","status":"Failure","message":"settings.longhorn.io \"x\" is forbidden: User \"u\" )"
           R"(cannot get resource \"settings\"","reason":"Forbidden","details":{"name":"x","kind":"settings"},"code":403})");
  CHECK(status.reason == "Forbidden");
  CHECK(status.message.find("cannot get resource") != std::string::npos);
}

TEST_CASE("a Status without a reason gets the reason Kubernetes uses for the HTTP status") {
  const auto status = parse_api_status(429, R"({"kind":"Status","message":"slow down"})");
  CHECK(status.message == "slow down");
  CHECK(status.reason == "TooManyRequests");
  CHECK(status.code == 429);
}

TEST_CASE("an HTML error page from a proxy becomes a one-line excerpt after the HTTP status") {
  const auto status = parse_api_status(
      502, "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1>"
           "</center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n");
  CHECK_FALSE(status.from_status_object);
  CHECK(status.message == "HTTP 502 Bad Gateway: 502 Bad Gateway 502 Bad Gateway nginx");
  CHECK(status.code == 502);
}

TEST_CASE("a plain-text body is used as the message, after the HTTP status") {
  const auto status = parse_api_status(404, "404 page not found\n");
  CHECK(status.message == "HTTP 404 Not Found: 404 page not found");
  CHECK(status.reason == "NotFound");
}

TEST_CASE("an empty body says so") {
  CHECK(parse_api_status(503, "").message == "HTTP 503 Service Unavailable (empty body)");
}

TEST_CASE("a long body is cut so the message stays one readable line") {
  const auto status = parse_api_status(500, std::string(10000, 'x') + "\n" + std::string(10000, 'y'));
  CHECK(status.message.size() < 300);
  CHECK(status.message.find('\n') == std::string::npos);
  CHECK(status.message.ends_with("..."));
}

TEST_CASE("control bytes in a body do not reach the message") {
  const auto status = parse_api_status(500, std::string("bad\x1b[31m\x07 things"));
  CHECK(status.message == "HTTP 500 Internal Server Error: bad[31m things");
}

TEST_CASE("JSON that is not a Status falls back to the body excerpt") {
  const auto status = parse_api_status(500, R"([1,2,3])");
  CHECK_FALSE(status.from_status_object);
  CHECK(status.message == "HTTP 500 Internal Server Error: [1,2,3]");
}

TEST_CASE("an unusual status code without a Kubernetes reason still gets a message") {
  const auto status = parse_api_status(577, "");
  CHECK(status.reason.empty());
  CHECK(status.message == "HTTP 577 (empty body)");
}
