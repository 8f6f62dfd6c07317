#include "admission/review.hpp"

namespace lug::admission {
namespace {

using json = nlohmann::json;

std::string string_field(const json& object, const char* key) {
  if (!object.is_object()) return {};
  const auto it = object.find(key);
  if (it == object.end() || !it->is_string()) return {};
  return it->get<std::string>();
}

bool bool_field(const json& object, const char* key) {
  if (!object.is_object()) return false;
  const auto it = object.find(key);
  return it != object.end() && it->is_boolean() && it->get<bool>();
}

const json& member(const json& object, const char* key) {
  static const json null_value;
  if (!object.is_object()) return null_value;
  const auto it = object.find(key);
  return it == object.end() ? null_value : *it;
}

}  // namespace

std::string admission_request::display_name() const {
  if (!name.empty()) return name;
  if (!generate_name.empty()) return generate_name + "*";
  return {};
}

int json_depth(std::string_view text, int limit) {
  int depth = 0;
  int deepest = 0;
  bool in_string = false;
  bool escaped = false;
  for (const char c : text) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      if (++depth > deepest) {
        deepest = depth;
        if (deepest > limit) return deepest;
      }
    } else if ((c == '}' || c == ']') && depth > 0) {
      --depth;
    }
  }
  return deepest;
}

std::variant<admission_request, decode_error> decode_review(std::string_view body) {
  if (body.empty()) {
    return decode_error{"request body is empty; POST an AdmissionReview (admission.k8s.io/v1) as JSON"};
  }
  if (json_depth(body, max_json_depth) > max_json_depth) {
    return decode_error{"request body nests JSON deeper than " + std::to_string(max_json_depth) +
                        " levels; an AdmissionReview never does"};
  }
  json review;
  try {
    review = json::parse(body);
  } catch (const json::exception& e) {
    return decode_error{std::string("request body is not valid JSON: ") + e.what()};
  }
  if (!review.is_object()) {
    return decode_error{"request body is JSON but not an object; POST an AdmissionReview (admission.k8s.io/v1)"};
  }
  const std::string kind = string_field(review, "kind");
  const std::string api_version = string_field(review, "apiVersion");
  if (kind != "AdmissionReview") {
    return decode_error{"request body is not an AdmissionReview (kind is \"" + kind +
                        "\"); POST an AdmissionReview (admission.k8s.io/v1)"};
  }
  if (api_version != review_v1 && api_version != review_v1beta1) {
    return decode_error{"unsupported AdmissionReview apiVersion \"" + api_version +
                        "\"; this webhook speaks admission.k8s.io/v1 and v1beta1"};
  }
  const auto request_it = review.find("request");
  if (request_it == review.end() || !request_it->is_object()) {
    return decode_error{"AdmissionReview has no request object"};
  }
  json& request = *request_it;
  admission_request out;
  out.review_api_version = api_version;
  out.uid = string_field(request, "uid");
  if (out.uid.empty()) {
    return decode_error{"AdmissionReview request has no uid (a non-empty string); the response must echo it"};
  }
  out.operation = string_field(request, "operation");
  const json& kind_object = member(request, "kind");
  out.kind_group = string_field(kind_object, "group");
  out.kind_version = string_field(kind_object, "version");
  out.kind = string_field(kind_object, "kind");
  out.resource = string_field(member(request, "resource"), "resource");
  out.sub_resource = string_field(request, "subResource");
  out.namespace_name = string_field(request, "namespace");
  out.name = string_field(request, "name");
  out.dry_run = bool_field(request, "dryRun");
  if (auto it = request.find("object"); it != request.end()) out.object = std::move(*it);
  out.generate_name = string_field(member(out.object, "metadata"), "generateName");
  if (out.name.empty()) out.name = string_field(member(out.object, "metadata"), "name");
  return out;
}

}  // namespace lug::admission
