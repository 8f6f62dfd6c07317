#include "admission/object_metadata.hpp"

namespace lug::admission {

const std::string* object_metadata::label(std::string_view key) const {
  for (const auto& [k, v] : labels) {
    if (k == key) return &v;
  }
  return nullptr;
}

void object_metadata::set_label(std::string_view key, std::string_view value) {
  for (auto& [k, v] : labels) {
    if (k == key) {
      v = value;
      return;
    }
  }
  labels.emplace_back(key, value);
}

}  // namespace lug::admission
