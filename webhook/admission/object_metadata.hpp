// The part of an admitted object's metadata that policies decide on, read while decoding
// the review so that deciding needs no DOM of the whole object (a pod with its spec and
// managedFields is most of a review's bytes, and most reviews are decided by a label).
//
// Fields of the wrong type read as absent, as everywhere in the request: a label whose
// value is not a string is not a label, an ownerReference that is not an object is
// skipped, and `controller` counts only when it is the boolean true.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace lug::admission {

struct owner_reference {
  std::string api_version;
  std::string kind;
  std::string name;
  bool controller = false;
};

struct object_metadata {
  bool present = false;  // object.metadata is a JSON object
  std::string name;
  std::string generate_name;
  // In document order; a key given twice keeps its last value, as the API server's own
  // decoder would.
  std::vector<std::pair<std::string, std::string>> labels;
  std::vector<owner_reference> owner_references;

  // The label's value, or nullptr when the object has no such (string) label.
  const std::string* label(std::string_view key) const;
  // Adds or replaces a label (the decoder, and tests building requests).
  void set_label(std::string_view key, std::string_view value);
};

}  // namespace lug::admission
