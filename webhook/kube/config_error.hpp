// The one error of the kube layer's configuration loaders. In its own header so that the
// loaders (cluster_config.hpp, kubeconfig.hpp) and the helpers they share (config_file.hpp)
// can all throw it without including each other.
#pragma once

#include <stdexcept>

namespace lug::kube {

// A config source that cannot be used as given; the message names the file/field and the fix.
struct config_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

}  // namespace lug::kube
