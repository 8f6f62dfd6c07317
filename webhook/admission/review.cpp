#include "admission/review.hpp"

#include <memory>

#include <simdjson.h>

namespace lug::admission {
namespace {

using simdjson::dom::element;
using simdjson::dom::object;

unexpected<decode_error> invalid(std::string message) { return unexpected(decode_error{std::move(message)}); }

// A parser keeps its buffers between documents, so once a thread has decoded a review of
// some size the next one costs no allocation. The buffers are about ten times the
// document; after one larger than this (the body limit allows megabytes) they are
// released, so that one big request does not stay resident. Real pods, managedFields
// included, stay well under it (the largest test fixture is 12.5 KiB).
constexpr std::size_t parser_keep_capacity = 128 * 1024;
// What a fresh parser starts with: enough for a typical pod in one allocation.
constexpr std::size_t parser_initial_capacity = 16 * 1024;

class thread_parser {
 public:
  // nullptr when the parser's buffers could not be allocated.
  simdjson::dom::parser* get() {
    if (!parser_) {
      auto fresh = std::make_unique<simdjson::dom::parser>();
      // The depth limit is set here, with the first allocation; later growth keeps it.
      if (fresh->allocate(parser_initial_capacity, max_json_depth) != simdjson::SUCCESS) return nullptr;
      parser_ = std::move(fresh);
    }
    return parser_.get();
  }
  void trim() {
    if (parser_ && parser_->capacity() > parser_keep_capacity) parser_.reset();
  }

 private:
  std::unique_ptr<simdjson::dom::parser> parser_;
};

thread_local thread_parser parser_of_this_thread;

std::string string_of(element value) {
  std::string_view text;
  if (value.get_string().get(text) != simdjson::SUCCESS) return {};
  return std::string(text);
}

bool true_of(element value) {
  bool flag = false;
  return value.get_bool().get(flag) == simdjson::SUCCESS && flag;
}

// Calls visit(key, value) for each member; nothing when `value` is not an object. Later
// duplicates overwrite earlier ones in every caller, which is how the API server's own
// decoder treats a repeated key.
template <typename Visit>
void for_each_member(element value, Visit&& visit) {
  object members;
  if (value.get_object().get(members) != simdjson::SUCCESS) return;
  for (const auto field : members) visit(field.key, field.value);
}

owner_reference owner_of(element value) {
  owner_reference owner;
  for_each_member(value, [&](std::string_view key, element field) {
    if (key == "apiVersion") owner.api_version = string_of(field);
    else if (key == "kind") owner.kind = string_of(field);
    else if (key == "name") owner.name = string_of(field);
    else if (key == "controller") owner.controller = true_of(field);
  });
  return owner;
}

void read_metadata(element value, object_metadata& out) {
  out.present = value.is_object();
  for_each_member(value, [&](std::string_view key, element field) {
    if (key == "name") {
      out.name = string_of(field);
    } else if (key == "generateName") {
      out.generate_name = string_of(field);
    } else if (key == "labels") {
      out.labels.clear();
      for_each_member(field, [&](std::string_view label, element label_value) {
        std::string_view text;
        if (label_value.get_string().get(text) == simdjson::SUCCESS) out.set_label(label, text);
      });
    } else if (key == "ownerReferences") {
      out.owner_references.clear();
      simdjson::dom::array owners;
      if (field.get_array().get(owners) != simdjson::SUCCESS) return;
      for (const element owner : owners) {
        if (owner.is_object()) out.owner_references.push_back(owner_of(owner));
      }
    }
  });
}

void read_request(element value, admission_request& out) {
  for_each_member(value, [&](std::string_view key, element field) {
    if (key == "uid") {
      out.uid = string_of(field);
    } else if (key == "operation") {
      out.operation = string_of(field);
    } else if (key == "kind") {
      out.kind_group.clear();
      out.kind_version.clear();
      out.kind.clear();
      for_each_member(field, [&](std::string_view k, element v) {
        if (k == "group") out.kind_group = string_of(v);
        else if (k == "version") out.kind_version = string_of(v);
        else if (k == "kind") out.kind = string_of(v);
      });
    } else if (key == "resource") {
      out.resource.clear();
      for_each_member(field, [&](std::string_view k, element v) {
        if (k == "resource") out.resource = string_of(v);
      });
    } else if (key == "subResource") {
      out.sub_resource = string_of(field);
    } else if (key == "namespace") {
      out.namespace_name = string_of(field);
    } else if (key == "name") {
      out.name = string_of(field);
    } else if (key == "dryRun") {
      out.dry_run = true_of(field);
    } else if (key == "object") {
      out.metadata = {};
      for_each_member(field, [&](std::string_view k, element v) {
        if (k == "metadata") {
          out.metadata = {};
          read_metadata(v, out.metadata);
        }
      });
    }
  });
}

std::string not_json(simdjson::error_code error) {
  if (error == simdjson::DEPTH_ERROR) {
    return "request body nests JSON deeper than " + std::to_string(max_json_depth) + " levels; an AdmissionReview never does";
  }
  return std::string("request body is not valid JSON: ") + simdjson::error_message(error);
}

}  // namespace

std::string admission_request::display_name() const {
  if (!name.empty()) return name;
  if (!metadata.generate_name.empty()) return metadata.generate_name + "*";
  return {};
}

result<admission_request, decode_error> decode_review(std::string_view body) {
  if (body.empty()) {
    return invalid("request body is empty; POST an AdmissionReview (admission.k8s.io/v1) as JSON");
  }
  auto* parser = parser_of_this_thread.get();
  if (parser == nullptr) return invalid("out of memory decoding the request body");
  // Copies the body into the parser's padded buffer (simdjson reads in 64-byte blocks).
  element review;
  const auto error = parser->parse(body.data(), body.size()).get(review);
  if (error != simdjson::SUCCESS) {
    parser_of_this_thread.trim();
    return invalid(not_json(error));
  }

  auto decoded = [&]() -> result<admission_request, decode_error> {
    if (!review.is_object()) {
      return invalid("request body is JSON but not an object; POST an AdmissionReview (admission.k8s.io/v1)");
    }
    std::string kind;
    std::string api_version;
    bool has_request = false;
    element request;
    for_each_member(review, [&](std::string_view key, element field) {
      if (key == "kind") {
        kind = string_of(field);
      } else if (key == "apiVersion") {
        api_version = string_of(field);
      } else if (key == "request") {
        has_request = field.is_object();
        request = field;
      }
    });
    if (kind != "AdmissionReview") {
      return invalid("request body is not an AdmissionReview (kind is \"" + kind +
                     "\"); POST an AdmissionReview (admission.k8s.io/v1)");
    }
    if (api_version != review_v1 && api_version != review_v1beta1) {
      return invalid("unsupported AdmissionReview apiVersion \"" + api_version +
                     "\"; this webhook speaks admission.k8s.io/v1 and v1beta1");
    }
    if (!has_request) return invalid("AdmissionReview has no request object");
    admission_request out;
    out.review_api_version = std::move(api_version);
    read_request(request, out);
    if (out.uid.empty()) {
      return invalid("AdmissionReview request has no uid (a non-empty string); the response must echo it");
    }
    if (out.name.empty()) out.name = out.metadata.name;
    return out;
  }();
  // The elements above point into the parser's buffers; everything kept was copied out.
  parser_of_this_thread.trim();
  return decoded;
}

result<void, decode_error> decode_object(std::string_view body, admission_request& request) {
  try {
    auto review = nlohmann::json::parse(body);
    auto& request_json = review.at("request");
    if (auto it = request_json.find("object"); it != request_json.end()) request.object = std::move(*it);
    return {};
  } catch (const nlohmann::json::exception& e) {
    return invalid(std::string("request.object could not be decoded: ") + e.what());
  }
}

}  // namespace lug::admission
