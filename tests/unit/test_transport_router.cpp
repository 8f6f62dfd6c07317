// Routing (transport/router.hpp): method + path to a handler; 404 listing what the port
// answers, 405 with an Allow header, HEAD wherever GET is, the query string ignored.
#include <doctest/doctest.h>

#include <string>

#include <boost/asio/awaitable.hpp>

#include "run_awaitable.hpp"
#include "transport/router.hpp"

namespace {

namespace http = lug::transport::http;
using lug::transport::request;
using lug::transport::request_context;
using lug::transport::response;

// A handler that answers 200 with its own name, so a test sees which one ran.
lug::transport::handler named(std::string name) {
  return [name = std::move(name)](const request& req, const request_context&) -> boost::asio::awaitable<response> {
    response res{http::status::ok, req.version()};
    res.body() = name;
    co_return res;
  };
}

struct fixture {
  lug::transport::router routes;

  fixture() {
    routes.add(http::verb::post, "/validate", named("validate"));
    routes.add(http::verb::post, "/mutate", named("mutate"));
    routes.add(http::verb::get, "/healthz", named("healthz"));
    routes.add(http::verb::put, "/healthz", named("healthz put"));
  }

  response send(http::verb method, std::string target) {
    request req{method, target, 11};
    const request_context ctx{"192.0.2.1:40000", std::chrono::steady_clock::now(), nullptr};
    return lug::test::run_awaitable(routes.dispatch(req, ctx));
  }
};

}  // namespace

TEST_SUITE("router") {
  TEST_CASE("should run the handler of the request's method and path") {
    fixture f;
    CHECK(f.send(http::verb::post, "/validate").body() == "validate");
    CHECK(f.send(http::verb::post, "/mutate").body() == "mutate");
    CHECK(f.send(http::verb::get, "/healthz").body() == "healthz");
    CHECK(f.send(http::verb::put, "/healthz").body() == "healthz put");
  }

  TEST_CASE("should route by the path alone, whatever the query string") {
    fixture f;
    CHECK(f.send(http::verb::post, "/validate?timeout=10s").body() == "validate");
    CHECK(f.send(http::verb::post, "/mutate?").body() == "mutate");
  }

  TEST_CASE("should answer HEAD with the GET handler") {
    fixture f;
    const auto res = f.send(http::verb::head, "/healthz");
    CHECK(res.result() == http::status::ok);
    CHECK(res.body() == "healthz");
  }

  TEST_CASE("should return not-found listing this port's endpoints when given an unknown path") {
    fixture f;
    for (const char* target : {"/", "/validate/", "/Validate", "/validatex", "/metrics?x=/validate"}) {
      CAPTURE(target);
      const auto res = f.send(http::verb::post, target);
      CHECK(res.result() == http::status::not_found);
      CHECK(res.body().find("POST /validate, POST /mutate, GET /healthz, PUT /healthz") != std::string::npos);
    }
  }

  TEST_CASE("should return method-not-allowed with an Allow header when given another method on a known path") {
    fixture f;
    SUBCASE("a POST-only path") {
      const auto res = f.send(http::verb::get, "/validate");
      CHECK(res.result() == http::status::method_not_allowed);
      CHECK(res[http::field::allow] == "POST");
      CHECK(res.body().find("method GET is not allowed on /validate; use POST") != std::string::npos);
    }
    SUBCASE("HEAD where there is no GET") {
      const auto res = f.send(http::verb::head, "/mutate");
      CHECK(res.result() == http::status::method_not_allowed);
      CHECK(res[http::field::allow] == "POST");
    }
    SUBCASE("a path with GET and PUT allows HEAD too") {
      const auto res = f.send(http::verb::delete_, "/healthz");
      CHECK(res.result() == http::status::method_not_allowed);
      CHECK(res[http::field::allow] == "GET, HEAD, PUT");
    }
  }

  TEST_CASE("should answer errors as a metav1.Status in the request's HTTP version") {
    fixture f;
    request req{http::verb::get, "/nowhere", 10};
    const request_context ctx{"192.0.2.1:40000", std::chrono::steady_clock::now(), nullptr};
    const auto res = lug::test::run_awaitable(f.routes.dispatch(req, ctx));
    CHECK(res.version() == 10);
    CHECK(res[http::field::content_type] == "application/json");
    CHECK(res.body().find(R"("kind":"Status")") != std::string::npos);
    CHECK(res.body().find(R"("code":404)") != std::string::npos);
  }

  TEST_CASE("should list its routes in the order they were added") {
    fixture f;
    CHECK(f.routes.endpoints() == "POST /validate, POST /mutate, GET /healthz, PUT /healthz");
    CHECK(lug::transport::router{}.endpoints().empty());
  }
}
