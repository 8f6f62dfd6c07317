// Which Longhorn Setting the guard waits for. One struct, and its defaults are the one
// place the flags (--namespace, --setting, --setting-api-version), the init container's
// arguments and the messages take them from.
#pragma once

#include <string>

namespace lug::guard {

// Names must be valid Kubernetes names (checked where they enter, at the flags); they go
// into the URL path as they are.
struct setting_ref {
  std::string api_version = "v1beta2";
  std::string namespace_name = "longhorn-system";
  std::string name = "deleting-confirmation-flag";
};

// "longhorn-system/deleting-confirmation-flag", for messages and logs.
inline std::string qualified_name(const setting_ref& setting) {
  return setting.namespace_name + "/" + setting.name;
}

}  // namespace lug::guard
