// Building RFC 6902 JSON Patch documents. Paths are built from tokens with RFC 6901
// escaping (`~` -> `~0`, `/` -> `~1`), so label keys such as `app.kubernetes.io/name`
// can be addressed safely.
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace lug::admission {

// "/a/b~1c" from {"a", "b/c"}; "-" and numbers pass through as given.
std::string json_pointer(std::initializer_list<std::string_view> tokens);

class json_patch {
 public:
  json_patch& add(std::string path, nlohmann::json value);
  json_patch& replace(std::string path, nlohmann::json value);
  json_patch& remove(std::string path);
  json_patch& test(std::string path, nlohmann::json value);

  bool empty() const { return operations_.empty(); }
  const nlohmann::json& operations() const { return operations_; }
  std::string dump() const;

 private:
  nlohmann::json operations_ = nlohmann::json::array();
};

}  // namespace lug::admission
