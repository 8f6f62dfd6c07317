#include <doctest/doctest.h>

#include <utility>

#include <nlohmann/json.hpp>

#include "admission/base64.hpp"
#include "admission/json_patch.hpp"
#include "admission/response.hpp"

namespace adm = lug::admission;
using json = nlohmann::json;

namespace {

std::string decode_base64(const std::string& text) {
  static const std::string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  unsigned buffer = 0;
  int bits = 0;
  for (char c : text) {
    if (c == '=') break;
    buffer = (buffer << 6) | static_cast<unsigned>(alphabet.find(c));
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((buffer >> bits) & 0xFFu);
    }
  }
  return out;
}

}  // namespace

TEST_SUITE("encoding an admission response") {
  TEST_CASE("an allowed response echoes apiVersion, kind and uid and carries no status or patch") {
    const auto body = json::parse(adm::encode_review("admission.k8s.io/v1", "uid-7", adm::allowed("why")));
    CHECK(body["apiVersion"] == "admission.k8s.io/v1");
    CHECK(body["kind"] == "AdmissionReview");
    CHECK(body["response"]["uid"] == "uid-7");
    CHECK(body["response"]["allowed"] == true);
    CHECK_FALSE(body["response"].contains("status"));
    CHECK_FALSE(body["response"].contains("patch"));
    CHECK_FALSE(body["response"].contains("patchType"));
    CHECK_FALSE(body["response"].contains("warnings"));
  }
  TEST_CASE("the review version of the request is answered in kind") {
    const auto body = json::parse(adm::encode_review("admission.k8s.io/v1beta1", "u", adm::allowed("")));
    CHECK(body["apiVersion"] == "admission.k8s.io/v1beta1");
  }
  TEST_CASE("a denial carries a status with code, reason and message") {
    const auto body = json::parse(
        adm::encode_review("admission.k8s.io/v1", "u", adm::denied(403, "set the flag", "flag false")));
    CHECK(body["response"]["allowed"] == false);
    CHECK(body["response"]["status"]["code"] == 403);
    CHECK(body["response"]["status"]["reason"] == "Forbidden");
    CHECK(body["response"]["status"]["message"] == "set the flag");
  }
  TEST_CASE("a denial's reason word follows its code, as Kubernetes pairs them") {
    const std::pair<int, const char*> pairs[] = {
        {403, "Forbidden"}, {429, "TooManyRequests"}, {503, "ServiceUnavailable"}, {500, "InternalError"}};
    for (const auto& [code, reason] : pairs) {
      CAPTURE(code);
      CHECK(adm::denied(code, "m", "l").status->reason == reason);
    }
    CHECK(adm::errored("boom").status->reason == "InternalError");
    CHECK(adm::abandoned("gone").status->reason == "ServiceUnavailable");
  }
  TEST_CASE("the log reason is never sent to the API server") {
    const auto text = adm::encode_review("admission.k8s.io/v1", "u", adm::allowed("secret-log-reason"));
    CHECK(text.find("secret-log-reason") == std::string::npos);
  }
  TEST_CASE("an errored response denies with code 500") {
    const auto body = json::parse(adm::encode_review("admission.k8s.io/v1", "u", adm::errored("boom")));
    CHECK(body["response"]["allowed"] == false);
    CHECK(body["response"]["status"]["code"] == 500);
  }
  TEST_CASE("a patched response carries patchType JSONPatch and the base64 of the patch array") {
    adm::json_patch patch;
    patch.add("/spec/initContainers", json::array({{{"name", "x"}}}));
    const auto body = json::parse(adm::encode_review("admission.k8s.io/v1", "u", adm::patched(patch, "")));
    CHECK(body["response"]["patchType"] == "JSONPatch");
    const auto decoded = json::parse(decode_base64(body["response"]["patch"].get<std::string>()));
    CHECK(decoded == patch.operations());
  }
  TEST_CASE("an empty patch gives neither patchType nor patch") {
    const auto body = json::parse(adm::encode_review("admission.k8s.io/v1", "u", adm::patched(adm::json_patch{}, "")));
    CHECK_FALSE(body["response"].contains("patchType"));
    CHECK_FALSE(body["response"].contains("patch"));
  }
  TEST_CASE("warnings are passed through") {
    const auto body =
        json::parse(adm::encode_review("admission.k8s.io/v1", "u", adm::with_warning(adm::allowed(""), "careful")));
    CHECK(body["response"]["warnings"] == json::array({"careful"}));
  }
  TEST_CASE("a uid with invalid UTF-8 still encodes to valid JSON, the bad byte replaced") {
    const auto body = json::parse(adm::encode_review("admission.k8s.io/v1", "bad\xff", adm::allowed("")));
    CHECK(body["response"]["uid"] == "bad\xef\xbf\xbd");
  }
  TEST_CASE("messages and warnings with quotes, backslashes, newlines and control bytes round-trip") {
    const std::string message = "line 1\nsay \"true\" \\ tab\there \x01 gr\xc3\xbc\xc3\x9f";
    const auto body = json::parse(adm::encode_review(
        "admission.k8s.io/v1", "u", adm::with_warning(adm::denied(403, message, ""), message)));
    CHECK(body["response"]["status"]["message"] == message);
    CHECK(body["response"]["status"]["code"] == 403);
    CHECK(body["response"]["warnings"] == json::array({message}));
  }
}

TEST_SUITE("base64 and JSON patch building") {
  TEST_CASE("base64 follows RFC 4648 test vectors") {
    CHECK(adm::base64_encode("") == "");
    CHECK(adm::base64_encode("f") == "Zg==");
    CHECK(adm::base64_encode("fo") == "Zm8=");
    CHECK(adm::base64_encode("foo") == "Zm9v");
    CHECK(adm::base64_encode("foobar") == "Zm9vYmFy");
  }
  TEST_CASE("pointer tokens escape ~ and / as RFC 6901 requires") {
    CHECK(adm::json_pointer({"metadata", "labels", "app.kubernetes.io/name"}) ==
          "/metadata/labels/app.kubernetes.io~1name");
    CHECK(adm::json_pointer({"a~b"}) == "/a~0b");
  }
  TEST_CASE("a patch built here applies to a document as RFC 6902 says") {
    const json doc = {{"metadata", {{"labels", {{"a/b", "1"}}}}}, {"spec", {{"x", 1}}}};
    adm::json_patch patch;
    patch.test("/spec/x", 1)
        .replace("/spec/x", 2)
        .add(adm::json_pointer({"metadata", "labels", "c/d"}), "2")
        .remove(adm::json_pointer({"metadata", "labels", "a/b"}));
    const json result = doc.patch(patch.operations());
    CHECK(result["spec"]["x"] == 2);
    CHECK(result["metadata"]["labels"] == json{{"c/d", "2"}});
  }
}
