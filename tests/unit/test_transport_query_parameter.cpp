// Splitting a request target (transport/http_types.hpp): the path routes, and a query
// parameter is read raw, as kube-apiserver writes `?timeout=10s` (it never encodes it).
// What the admission endpoint makes of the timeout's value is in
// test_admission_http_endpoint.cpp.
#include <doctest/doctest.h>

#include <string_view>

#include "transport/http_types.hpp"

using lug::transport::query_parameter;
using lug::transport::target_path;

TEST_SUITE("request target") {
  TEST_CASE("should give the path without the query string") {
    CHECK(target_path("/validate?timeout=10s") == "/validate");
    CHECK(target_path("/validate") == "/validate");
    CHECK(target_path("/validate?") == "/validate");
    CHECK(target_path("?timeout=10s").empty());
    CHECK(target_path("/a?b?c") == "/a");
  }

  TEST_CASE("should read a query parameter's raw value, or empty when absent") {
    struct row {
      std::string_view target;
      std::string_view timeout;
    };
    for (const auto& [target, timeout] : {
             row{"/validate?timeout=10s", "10s"},
             row{"/validate?dryRun=All&timeout=5s", "5s"},
             row{"/validate?timeout=5s&dryRun=All", "5s"},
             row{"/validate?&&timeout=3s&", "3s"},
             // absent
             row{"/validate", ""},
             row{"/validate?", ""},
             row{"/validate?timeout", ""},
             row{"/validate?timeout=", ""},
             row{"/validate?dryRun=All", ""},
             // only the exact name, in its letter case
             row{"/validate?xtimeout=1s", ""},
             row{"/validate?timeoutx=1s", ""},
             row{"/validate?TIMEOUT=1s", ""},
             row{"/validate?a=timeout=1s", ""},
             // repeated: the first wins
             row{"/validate?timeout=1s&timeout=2s", "1s"},
             row{"/validate?timeout&timeout=2s", ""},
             // not decoded, and everything after the first '=' belongs to the value
             row{"/validate?timeout=10%73", "10%73"},
             row{"/validate?timeout%3D10s", ""},
             row{"/validate?timeout=a=b", "a=b"},
             // the path takes no part
             row{"/timeout=1s", ""},
         }) {
      CAPTURE(target);
      CHECK(query_parameter(target, "timeout") == timeout);
    }
  }
}
