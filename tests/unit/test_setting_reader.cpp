// How an API server response (or its absence) becomes a setting_read, and how reads are
// described to people; no sockets involved.
#include <doctest/doctest.h>

#include <string>

#include "guard/quoted_value.hpp"
#include "guard/setting_reader.hpp"
#include "test_support.hpp"

namespace {

using lug::guard::flag_value;
using lug::guard::interpret_failure;
using lug::guard::interpret_response;
using lug::guard::read_mode;
using lug::guard::read_outcome;
using lug::guard::setting_read;
using lug::test::contains;

// What every read in these tests asks for: the defaults, longhorn-system/deleting-confirmation-flag.
const lug::guard::setting_ref wanted{};

std::string setting_body(const std::string& value_field) {
  return R"({"apiVersion":"longhorn.io/v1beta2","kind":"Setting","metadata":{"name":"deleting-confirmation-flag",)"
         R"("namespace":"longhorn-system","resourceVersion":"98765"})" +
         value_field + R"(,"status":{"applied":true}})";
}

const std::string not_found_object =
    R"({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",)"
    R"("message":"settings.longhorn.io \"deleting-confirmation-flag\" not found","reason":"NotFound",)"
    R"("details":{"name":"deleting-confirmation-flag","group":"longhorn.io","kind":"settings"},"code":404})";
const std::string not_found_resource =
    R"({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",)"
    R"("message":"the server could not find the requested resource","reason":"NotFound","details":{},"code":404})";

}  // namespace

TEST_SUITE("setting paths") {
  TEST_CASE("a fresh read has no resourceVersion parameter at all, so it is a quorum read") {
    const auto path = lug::guard::setting_path({}, read_mode::fresh);
    CHECK(path == "/apis/longhorn.io/v1beta2/namespaces/longhorn-system/settings/deleting-confirmation-flag");
    CHECK_FALSE(contains(path, "?"));
    CHECK_FALSE(contains(path, "resourceVersion"));
  }

  TEST_CASE("a cached read asks for resourceVersion=0, the watch cache") {
    CHECK(lug::guard::setting_path({}, read_mode::cached) ==
          "/apis/longhorn.io/v1beta2/namespaces/longhorn-system/settings/deleting-confirmation-flag?resourceVersion=0");
  }

  TEST_CASE("the api version, namespace and name come from the setting reference") {
    CHECK(lug::guard::setting_path({"v1beta1", "storage", "other-flag"}, read_mode::fresh) ==
          "/apis/longhorn.io/v1beta1/namespaces/storage/settings/other-flag");
  }
}

TEST_SUITE("interpreting responses") {
  TEST_CASE("a Setting gives its top-level value and resourceVersion") {
    const auto read = interpret_response(wanted, 200, setting_body(R"(,"value":"true")"));
    CHECK(read.outcome == read_outcome::ok);
    CHECK(read.value == "true");
    CHECK(read.resource_version == "98765");
    CHECK(read.http_status == 200);
    CHECK(read.message.empty());
    CHECK(read.is_true());
  }

  TEST_CASE("a value under spec is not the value: Longhorn keeps it at the top level") {
    const auto read = interpret_response(wanted, 200,
                                         R"({"kind":"Setting","metadata":{"name":"deleting-confirmation-flag",)"
                                         R"("namespace":"longhorn-system","resourceVersion":"1"},)"
                                         R"("spec":{"value":"true"}})");
    CHECK(read.outcome == read_outcome::ok);
    CHECK(read.value.empty());
    CHECK_FALSE(read.is_true());
  }

  TEST_CASE("a Setting without a value reads as the empty string, which is not true") {
    const auto read = interpret_response(wanted, 200, setting_body(""));
    CHECK(read.outcome == read_outcome::ok);
    CHECK(read.value.empty());
    CHECK(read.flag() == flag_value::invalid);
  }

  TEST_CASE("values follow strconv.ParseBool") {
    CHECK(interpret_response(wanted, 200, setting_body(R"(,"value":"True")")).is_true());
    CHECK(interpret_response(wanted, 200, setting_body(R"(,"value":"1")")).is_true());
    CHECK(interpret_response(wanted, 200, setting_body(R"(,"value":"false")")).flag() == flag_value::false_value);
    CHECK(interpret_response(wanted, 200, setting_body(R"(,"value":"yes")")).flag() == flag_value::invalid);
  }

  TEST_CASE("a value that is not a string is an invalid response, not a boolean") {
    const auto read = interpret_response(wanted, 200, setting_body(R"(,"value":true)"));
    CHECK(read.outcome == read_outcome::invalid_response);
    CHECK_FALSE(read.is_true());
    CHECK(contains(read.message, "boolean"));
  }

  TEST_CASE("an object of another kind is an invalid response naming the kind") {
    const auto read = interpret_response(wanted, 200, R"({"kind":"SettingList","items":[]})");
    CHECK(read.outcome == read_outcome::invalid_response);
    CHECK(contains(read.message, "SettingList"));
  }

  TEST_CASE("a 200 that is another object than the one asked for is an invalid response, never a value") {
    struct other {
      const char* what;
      std::string body;
    };
    const other others[] = {
        {"no kind", R"({"apiVersion":"longhorn.io/v1beta2","metadata":{"name":"deleting-confirmation-flag",)"
                    R"("namespace":"longhorn-system"},"value":"true"})"},
        {"another kind", R"({"kind":"ConfigMap","metadata":{"name":"deleting-confirmation-flag",)"
                         R"("namespace":"longhorn-system"},"value":"true"})"},
        {"another name", R"({"kind":"Setting","metadata":{"name":"some-other-setting",)"
                         R"("namespace":"longhorn-system"},"value":"true"})"},
        {"another namespace", R"({"kind":"Setting","metadata":{"name":"deleting-confirmation-flag",)"
                              R"("namespace":"elsewhere"},"value":"true"})"},
        {"no name", R"({"kind":"Setting","metadata":{"namespace":"longhorn-system"},"value":"true"})"},
        {"no metadata", R"({"kind":"Setting","value":"true"})"},
    };
    for (const auto& o : others) {
      CAPTURE(o.what);
      const auto read = interpret_response(wanted, 200, o.body);
      CHECK(read.outcome == read_outcome::invalid_response);
      CHECK_FALSE(read.is_true());
      CHECK_FALSE(read.message.empty());
    }
    CHECK(contains(interpret_response(wanted, 200, others[2].body).message,
                   R"(asked for the Setting longhorn-system/deleting-confirmation-flag, the API server returned )"
                   R"("longhorn-system"/"some-other-setting")"));
  }

  TEST_CASE("the setting asked for is the one checked: another name is read when it is the one wanted") {
    const lug::guard::setting_ref other_flag{"v1beta2", "storage", "other-flag"};
    const auto read = interpret_response(
        other_flag, 200, R"({"kind":"Setting","metadata":{"name":"other-flag","namespace":"storage"},"value":"true"})");
    CHECK(read.is_true());
  }

  TEST_CASE("a 200 that is not JSON is an invalid response") {
    CHECK(interpret_response(wanted, 200, "<html>login</html>").outcome == read_outcome::invalid_response);
  }

  TEST_CASE("a 404 naming the object means the setting is missing, which Longhorn reads as false") {
    const auto read = interpret_response(wanted, 404, not_found_object);
    CHECK(read.outcome == read_outcome::setting_missing);
    CHECK(read.answered());
    CHECK(read.flag() == flag_value::false_value);
    CHECK_FALSE(read.is_true());
    CHECK(contains(read.message, "not found"));
  }

  TEST_CASE("a 404 without details means the Longhorn API itself is not served") {
    const auto read = interpret_response(wanted, 404, not_found_resource);
    CHECK(read.outcome == read_outcome::api_missing);
    CHECK_FALSE(read.answered());
    CHECK(read.flag() == flag_value::invalid);
  }

  TEST_CASE("a plain-text 404 from something in between is an unserved API, not a missing setting") {
    CHECK(interpret_response(wanted, 404, "404 page not found").outcome == read_outcome::api_missing);
  }

  TEST_CASE("error statuses map to their outcomes and keep the API server's message") {
    struct expectation {
      unsigned status;
      read_outcome outcome;
    };
    for (const auto& [status, outcome] :
         {expectation{401, read_outcome::unauthorized}, expectation{403, read_outcome::forbidden},
          expectation{429, read_outcome::throttled}, expectation{500, read_outcome::server_error},
          expectation{503, read_outcome::server_error}, expectation{504, read_outcome::server_error},
          expectation{400, read_outcome::invalid_response}, expectation{302, read_outcome::invalid_response}}) {
      CAPTURE(status);
      const auto read = interpret_response(wanted, status, R"({"kind":"Status","message":"the message"})");
      CHECK(read.outcome == outcome);
      CHECK(read.http_status == status);
      CHECK(read.message == "the message");
      CHECK_FALSE(read.answered());
      CHECK_FALSE(read.is_true());
    }
  }

  TEST_CASE("transport failures map to outcomes with their message") {
    using lug::kube::failure_kind;
    struct expectation {
      failure_kind kind;
      read_outcome outcome;
    };
    for (const auto& [kind, outcome] :
         {expectation{failure_kind::timeout, read_outcome::timeout},
          expectation{failure_kind::unreachable, read_outcome::unreachable},
          expectation{failure_kind::tls, read_outcome::tls_failure},
          expectation{failure_kind::protocol, read_outcome::invalid_response},
          expectation{failure_kind::credentials, read_outcome::unauthorized},
          expectation{failure_kind::cancelled, read_outcome::cancelled}}) {
      CAPTURE(lug::kube::to_string(kind));
      const auto read = interpret_failure({kind, "what went wrong"});
      CHECK(read.outcome == outcome);
      CHECK(read.http_status == 0);
      CHECK(read.message == "what went wrong");
      CHECK_FALSE(read.is_true());
    }
  }
}

TEST_SUITE("describing reads") {
  TEST_CASE("an answered read shows the value quoted and its resourceVersion") {
    CHECK(describe(interpret_response(wanted, 200, setting_body(R"(,"value":"false")"))) ==
          R"(value "false" at resourceVersion 98765)");
  }

  TEST_CASE("a value Longhorn cannot parse says so") {
    CHECK(describe(interpret_response(wanted, 200, setting_body(R"(,"value":"yes")"))) ==
          R"(value "yes" at resourceVersion 98765, which Longhorn does not read as true or false)");
    CHECK(describe(interpret_response(wanted, 200, setting_body(""))) ==
          "an empty value at resourceVersion 98765, which Longhorn does not read as true or false");
  }

  TEST_CASE("odd bytes in a value are escaped, keeping the description on one line") {
    const auto text = describe(interpret_response(wanted, 200, setting_body(R"(,"value":"tr\nue\"")")));
    CHECK(text == R"(value "tr\nue\"" at resourceVersion 98765, which Longhorn does not read as true or false)");
  }

  TEST_CASE("an oversized value is quoted as a bounded prefix that says it was cut") {
    const std::string huge(1024 * 1024, 'x');
    const auto text = describe(interpret_response(wanted, 200, setting_body(R"(,"value":")" + huge + R"(")")));
    const std::string prefix(lug::guard::max_quoted_value_bytes, 'x');
    CHECK(text == "value \"" + prefix + "\"... (cut: the first 64 of 1048576 bytes) at resourceVersion 98765, "
                  "which Longhorn does not read as true or false");
  }

  TEST_CASE("a cut never splits a UTF-8 character") {
    // 63 ASCII bytes, then a two-byte character straddling the 64-byte bound.
    const std::string value = std::string(63, 'a') + "\xC3\xA9" + std::string(100, 'b');
    const auto quoted = lug::guard::quote_value(value);
    CHECK(quoted == "\"" + std::string(63, 'a') + "\"... (cut: the first 63 of 165 bytes)");
    CHECK(lug::guard::cut_value(value) == std::string(63, 'a') + "... (cut: the first 63 of 165 bytes)");
  }

  TEST_CASE("a value within the bound is quoted whole") {
    const std::string value(lug::guard::max_quoted_value_bytes, 'y');
    CHECK(lug::guard::quote_value(value) == "\"" + value + "\"");
    CHECK(lug::guard::cut_value(value) == value);
  }

  TEST_CASE("a missing setting names it and says Longhorn reads that as false") {
    auto read = interpret_response(wanted, 404, not_found_object);
    read.setting = {"v1beta2", "longhorn-system", "deleting-confirmation-flag"};
    CHECK(describe(read) ==
          "setting longhorn-system/deleting-confirmation-flag does not exist (Longhorn reads that as false)");
  }

  TEST_CASE("a missing API names the group and version and asks whether Longhorn is installed") {
    auto read = interpret_response(wanted, 404, not_found_resource);
    CHECK(describe(read) == "the API server does not serve longhorn.io/v1beta2 settings (is Longhorn installed?) "
                            "(HTTP 404): the server could not find the requested resource");
  }

  TEST_CASE("a refused read gives the outcome, the HTTP status and the API server's message") {
    const auto read = interpret_response(
        wanted, 403, R"({"kind":"Status","message":"settings.longhorn.io \"x\" is forbidden: User \"u\" cannot get resource)"
             R"( \"settings\"","reason":"Forbidden","code":403})");
    CHECK(describe(read) == R"(forbidden (HTTP 403): settings.longhorn.io "x" is forbidden: User "u" cannot get)"
                            R"( resource "settings")");
  }

  TEST_CASE("a transport failure gives the outcome and the error, without an HTTP status") {
    CHECK(describe(interpret_failure({lug::kube::failure_kind::timeout, "no response within 10s"})) ==
          "timeout: no response within 10s");
    CHECK(describe(interpret_failure({lug::kube::failure_kind::unreachable, "connection refused"})) ==
          "API server unreachable: connection refused");
  }

  TEST_CASE("outcomes and modes have names for logs and JSON") {
    CHECK(lug::guard::to_string(read_outcome::setting_missing) == "setting_missing");
    CHECK(lug::guard::to_string(read_outcome::tls_failure) == "tls_failure");
    CHECK(lug::guard::to_string(read_mode::fresh) == "fresh");
    CHECK(lug::guard::to_string(read_mode::cached) == "cached");
  }
}
