// Reading a pod's JSON the way the API server may send it: any member can be missing or of
// another type than the schema says (admission sees objects before defaulting completes, and
// fuzzed or hand-written reviews see anything). One accessor, so the init container and the
// uninstall wrapper read pods the same way.
#pragma once

#include <nlohmann/json.hpp>

namespace lug::guard {

// object[key], or null when object is not an object or has no such member.
inline const nlohmann::json& member(const nlohmann::json& object, const char* key) {
  static const nlohmann::json null_value;
  if (!object.is_object()) return null_value;
  const auto it = object.find(key);
  return it == object.end() ? null_value : *it;
}

}  // namespace lug::guard
