// The flags that name the Longhorn Setting to guard on, shared by serve, wait and check:
// --namespace (longhorn-system), --setting (deleting-confirmation-flag) and
// --setting-api-version (v1beta2). Values are checked here, where they enter, against
// Kubernetes' naming rules, because they become parts of a URL path.
#pragma once

#include <cxxopts.hpp>

#include "guard/setting_ref.hpp"

namespace lug::cli {

void add_setting_flags(cxxopts::Options& options);

// Throws usage_error naming the flag when a value is not a valid Kubernetes name.
guard::setting_ref setting_ref_from_flags(const cxxopts::ParseResult& parsed);

}  // namespace lug::cli
