#include "invariants.hpp"

#include <openssl/evp.h>

#include <cstdio>
#include <cstdlib>

#include "guard/init_container.hpp"
#include "guard/uninstall_wrapper.hpp"

namespace lug::fuzz {
namespace {

using json = nlohmann::json;

json parse_or_fail(std::string_view text, std::string_view what) {
  auto parsed = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded()) fail(what, text);
  return parsed;
}

const json& member_or_fail(const json& object, const char* key, std::string_view what) {
  if (!object.is_object() || !object.contains(key)) fail(what, object.dump(-1, ' ', false, json::error_handler_t::replace));
  return object.at(key);
}

bool is_string_array(const json& value) {
  if (!value.is_array()) return false;
  for (const auto& item : value) {
    if (!item.is_string()) return false;
  }
  return true;
}

// What the supervisor wrap may change (guard/uninstall_wrapper.hpp), checked on the patched
// pod and then undone in `rest`: one volume named for the supervisor appended to
// spec.volumes; and only in containers whose command runs longhorn-manager uninstall (or
// already runs under the supervisor), the command wrapped exactly once and the volume
// mounted read-only at its path.
void check_supervisor_wrap(const json& pod, const json& patched, json& rest, std::string_view patch_text) {
  const json& spec = pod.at("spec");
  const auto volumes = spec.find("volumes");
  const std::size_t volumes_before = volumes != spec.end() && volumes->is_array() ? volumes->size() : 0;
  const json& patched_volumes = patched.at("spec").contains("volumes") ? patched.at("spec").at("volumes") : json();
  if (patched_volumes.is_array() && patched_volumes.size() == volumes_before + 1) {
    require(patched_volumes.back() == json{{"name", guard::supervisor_volume_name},
                                           {"emptyDir", {{"sizeLimit", guard::supervisor_volume_size_limit}}}},
            "an added volume is the supervisor's emptyDir", patch_text);
    for (std::size_t i = 0; i < volumes_before; ++i) {
      require(patched_volumes.at(i) == volumes->at(i), "the pod's own volumes are kept", patch_text);
    }
    if (volumes == spec.end()) {
      rest["spec"].erase("volumes");
    } else {
      rest["spec"]["volumes"] = *volumes;
    }
  }
  const auto containers = spec.find("containers");
  if (containers == spec.end() || !containers->is_array()) return;
  const json& patched_containers = patched.at("spec").at("containers");
  require(patched_containers.is_array() && patched_containers.size() == containers->size(),
          "the pod keeps its containers", patch_text);
  for (std::size_t i = 0; i < containers->size(); ++i) {
    const json& before = containers->at(i);
    const json& after = patched_containers.at(i);
    if (before == after) continue;
    const auto kind = guard::classify_command(before);
    require(kind == guard::command_kind::uninstall || kind == guard::command_kind::wrapped,
            "only a container running longhorn-manager uninstall is changed", patch_text);
    const json& command = before.at("command");
    require(after.at("command") == (kind == guard::command_kind::uninstall
                                         ? guard::wrapped_command(command, supervisor::default_attempts)
                                         : command),
            "the uninstall command is wrapped exactly once", patch_text);
    const json& mounts = after.at("volumeMounts");
    require(mounts.is_array() && !mounts.empty() &&
                mounts.back() == json{{"name", guard::supervisor_volume_name},
                                      {"mountPath", guard::supervisor_mount_path},
                                      {"readOnly", true}},
            "the uninstall container mounts the supervisor read-only", patch_text);
    json& restored = rest["spec"]["containers"][i];
    restored["command"] = command;
    if (before.contains("volumeMounts")) {
      restored["volumeMounts"] = before.at("volumeMounts");
    } else {
      restored.erase("volumeMounts");
    }
  }
}

}  // namespace

void fail(std::string_view what, std::string_view detail) {
  std::fprintf(stderr, "\n==== invariant broken: %.*s\n", static_cast<int>(what.size()), what.data());
  if (!detail.empty()) {
    // Enough to see the shape; the whole input is in the crash artifact.
    constexpr std::size_t shown = 2000;
    const auto excerpt = detail.substr(0, shown);
    std::fprintf(stderr, "%.*s%s\n", static_cast<int>(excerpt.size()), excerpt.data(),
                 detail.size() > shown ? "..." : "");
  }
  std::abort();
}

void check_decoded_object(std::string_view body, admission::admission_request& request) {
  const auto filled = admission::decode_object(body, request);
  require(filled.has_value(), "a body decode_review accepted decodes to a DOM too",
          filled ? "" : filled.error().message);
  const json& object = request.object;
  const json* metadata = object.is_object() && object.contains("metadata") ? &object.at("metadata") : nullptr;
  const auto& read = request.metadata;
  require(read.present == (metadata != nullptr && metadata->is_object()), "metadata.present matches the DOM");
  if (!read.present) return;
  const auto string_member = [](const json& parent, const char* key) {
    const auto it = parent.find(key);
    return it != parent.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  require(read.name == string_member(*metadata, "name"), "metadata.name matches the DOM", read.name);
  require(read.generate_name == string_member(*metadata, "generateName"), "metadata.generateName matches the DOM");
  std::size_t string_labels = 0;
  if (const auto labels = metadata->find("labels"); labels != metadata->end() && labels->is_object()) {
    for (const auto& [key, value] : labels->items()) {
      if (!value.is_string()) {
        require(read.label(key) == nullptr, "a label that is not a string is not read", key);
        continue;
      }
      ++string_labels;
      require(read.label(key) != nullptr && *read.label(key) == value.get<std::string>(), "a label matches the DOM", key);
    }
  }
  require(read.labels.size() == string_labels, "no label is read that the DOM does not have");
  std::size_t owners = 0;
  if (const auto refs = metadata->find("ownerReferences"); refs != metadata->end() && refs->is_array()) {
    for (const auto& ref : *refs) {
      if (!ref.is_object()) continue;
      require(owners < read.owner_references.size(), "every ownerReference object is read");
      const auto& owner = read.owner_references[owners++];
      const auto controller = ref.find("controller");
      require(owner.controller == (controller != ref.end() && controller->is_boolean() && controller->get<bool>()),
              "ownerReference.controller matches the DOM");
      require(owner.api_version == string_member(ref, "apiVersion") && owner.kind == string_member(ref, "kind") &&
                  owner.name == string_member(ref, "name"),
              "ownerReference apiVersion/kind/name match the DOM");
    }
  }
  require(read.owner_references.size() == owners, "no ownerReference is read that the DOM does not have");
}

std::string base64_decode(std::string_view text) {
  require(text.size() % 4 == 0, "base64 text is a whole number of 4-character groups", text);
  std::string out(text.size() / 4 * 3, '\0');
  const int length = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                     reinterpret_cast<const unsigned char*>(text.data()), static_cast<int>(text.size()));
  require(length >= 0, "base64 text decodes", text);
  // EVP_DecodeBlock counts the bytes that '=' padding stands for.
  std::size_t padding = 0;
  if (!text.empty() && text.back() == '=') ++padding;
  if (text.size() > 1 && text[text.size() - 2] == '=') ++padding;
  out.resize(static_cast<std::size_t>(length) - padding);
  return out;
}

json check_answer(std::string_view body, const admission::admission_request& request) {
  const json review = parse_or_fail(body, "the encoded review is JSON");
  require(review.is_object(), "the encoded review is a JSON object", body);
  require(review.value("kind", "") == "AdmissionReview", "the answer is of kind AdmissionReview", body);
  require(review.value("apiVersion", "") == request.review_api_version, "the answer echoes the request's apiVersion",
          body);
  const json& response = member_or_fail(review, "response", "the answer has a response");
  require(response.is_object(), "the response is an object", body);
  const json& uid = member_or_fail(response, "uid", "the response has a uid");
  require(uid.is_string() && uid.get_ref<const std::string&>() == request.uid, "the response uid equals the request uid",
          body);
  const json& allowed = member_or_fail(response, "allowed", "the response says whether the request is allowed");
  require(allowed.is_boolean(), "allowed is a boolean", body);

  if (!allowed.get<bool>()) {
    const json& status = member_or_fail(response, "status", "a denial carries a status");
    const json& code = member_or_fail(status, "code", "a denial's status has a code");
    require(code.is_number_integer() && code.get<int>() >= 400 && code.get<int>() < 600,
            "a denial's code is an HTTP error status", body);
    const json& message = member_or_fail(status, "message", "a denial's status has a message");
    require(message.is_string() && !message.get_ref<const std::string&>().empty(), "a denial says why", body);
    require(!response.contains("patch"), "a denial carries no patch", body);
  }
  if (response.contains("patch")) {
    require(response.value("patchType", "") == "JSONPatch", "a patch comes with patchType JSONPatch", body);
    const json& patch = response.at("patch");
    require(patch.is_string(), "the patch is a base64 string", body);
    const json operations =
        parse_or_fail(base64_decode(patch.get_ref<const std::string&>()), "the decoded patch is JSON");
    require(operations.is_array() && !operations.empty(), "the decoded patch is a non-empty JSON array", body);
  } else {
    require(!response.contains("patchType"), "no patchType without a patch", body);
  }
  if (response.contains("warnings")) {
    require(is_string_array(response.at("warnings")), "warnings are a list of strings", body);
  }
  return response;
}

json check_patch(const json& pod, std::string_view patch_text) {
  const json operations = parse_or_fail(patch_text, "the patch is JSON");
  require(operations.is_array() && !operations.empty(), "the patch is a non-empty JSON array", patch_text);
  json patched;
  try {
    patched = pod.patch(operations);
  } catch (const json::exception& e) {
    fail("the patch applies to the pod it was built for", std::string(e.what()) + "\npatch: " + std::string(patch_text));
  }

  const json& init_containers = patched.at("spec").at("initContainers");
  require(init_containers.is_array() && !init_containers.empty(), "the patched pod has init containers",
          patch_text);
  const json& first = init_containers.at(0);
  require(first.is_object() && first.value("name", "") == guard::init_container_name,
          "the guard's init container comes first", patch_text);

  const json& spec = pod.at("spec");
  const auto original = spec.find("initContainers");
  const bool had_list = original != spec.end() && original->is_array() && !original->empty();
  if (had_list) {
    require(init_containers.size() == original->size() + 1, "the pod's own init containers are all kept", patch_text);
    for (std::size_t i = 0; i < original->size(); ++i) {
      require(init_containers.at(i + 1) == original->at(i), "the pod's own init containers keep their order",
              patch_text);
    }
  } else {
    require(init_containers.size() == 1, "a pod without init containers gets exactly ours", patch_text);
  }

  json rest = patched;
  if (original != spec.end()) {
    rest["spec"]["initContainers"] = *original;
  } else {
    rest["spec"].erase("initContainers");
  }
  check_supervisor_wrap(pod, patched, rest, patch_text);
  require(rest == pod,
          "the patch changes nothing but spec.initContainers, the supervisor's volume and the uninstall "
          "containers' command and mounts",
          patch_text);
  return patched;
}

}  // namespace lug::fuzz
