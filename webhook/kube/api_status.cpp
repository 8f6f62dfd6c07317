#include "kube/api_status.hpp"

#include <boost/beast/http/status.hpp>
#include <nlohmann/json.hpp>

#include "support/status_reason.hpp"

namespace lug::kube {
namespace {

// Enough of a proxy's error page to recognise it ("502 Bad Gateway nginx"), short enough to
// sit inside a one-line admission message.
constexpr std::size_t max_body_excerpt = 200;

std::string string_field(const nlohmann::json& object, const char* key) {
  const auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string{};
}

// The text of a non-Status body on one line: tags dropped, whitespace collapsed, control
// bytes removed, cut to max_body_excerpt.
std::string body_excerpt(std::string_view body) {
  std::string out;
  bool in_tag = false;
  bool pending_space = false;
  for (char c : body) {
    if (c == '<') {
      in_tag = true;
      pending_space = true;
      continue;
    }
    if (in_tag) {
      if (c == '>') in_tag = false;
      continue;
    }
    const auto byte = static_cast<unsigned char>(c);
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
      pending_space = true;
      continue;
    }
    if (byte < 0x20 || byte == 0x7f) continue;
    if (pending_space && !out.empty()) out += ' ';
    pending_space = false;
    out += c;
    if (out.size() >= max_body_excerpt) {
      out += "...";
      break;
    }
  }
  return out;
}

std::string http_status_text(unsigned http_status) {
  const auto phrase = boost::beast::http::obsolete_reason(boost::beast::http::int_to_status(http_status));
  std::string text = "HTTP " + std::to_string(http_status);
  if (!phrase.empty() && phrase != "<unknown-status>") text += " " + std::string(phrase);
  return text;
}

}  // namespace

api_status parse_api_status(unsigned http_status, std::string_view body) {
  api_status status;
  status.code = http_status;
  status.reason = std::string(status_reason(http_status));

  const auto json = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (json.is_object() && (string_field(json, "kind") == "Status" || json.contains("message"))) {
    status.from_status_object = true;
    status.message = string_field(json, "message");
    if (auto reason = string_field(json, "reason"); !reason.empty()) status.reason = std::move(reason);
    if (const auto code = json.find("code"); code != json.end() && code->is_number_unsigned()) {
      status.code = code->get<unsigned>();
    }
    if (const auto details = json.find("details"); details != json.end() && details->is_object()) {
      status.details_kind = string_field(*details, "kind");
      status.details_name = string_field(*details, "name");
    }
  }
  if (status.message.empty()) {
    const std::string excerpt = body_excerpt(body);
    status.message = http_status_text(http_status) + (excerpt.empty() ? " (empty body)" : ": " + excerpt);
  }
  return status;
}

}  // namespace lug::kube
