#include "admission/json_patch.hpp"

namespace lug::admission {

std::string json_pointer(std::initializer_list<std::string_view> tokens) {
  std::string out;
  for (const auto token : tokens) {
    out += '/';
    for (const char c : token) {
      if (c == '~') {
        out += "~0";
      } else if (c == '/') {
        out += "~1";
      } else {
        out += c;
      }
    }
  }
  return out;
}

json_patch& json_patch::add(std::string path, nlohmann::json value) {
  operations_.push_back({{"op", "add"}, {"path", std::move(path)}, {"value", std::move(value)}});
  return *this;
}

json_patch& json_patch::replace(std::string path, nlohmann::json value) {
  operations_.push_back({{"op", "replace"}, {"path", std::move(path)}, {"value", std::move(value)}});
  return *this;
}

json_patch& json_patch::remove(std::string path) {
  operations_.push_back({{"op", "remove"}, {"path", std::move(path)}});
  return *this;
}

json_patch& json_patch::test(std::string path, nlohmann::json value) {
  operations_.push_back({{"op", "test"}, {"path", std::move(path)}, {"value", std::move(value)}});
  return *this;
}

std::string json_patch::dump() const {
  return operations_.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace lug::admission
