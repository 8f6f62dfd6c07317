// A cluster_config from a kubeconfig file, read with yaml-cpp (kubeconfig.cpp, the only file
// that sees it).
//
// Only what a guard can use on its own is supported. Anything that needs another program
// (exec plugins, auth providers), weakens verification (insecure-skip-tls-verify, plain
// http), or changes who we are or how we connect in ways we would silently ignore
// (impersonation, proxies, basic auth) is rejected with a config_error saying so, rather
// than producing requests that fail later with a confusing 401 or certificate error.
#pragma once

#include <filesystem>
#include <string_view>

#include "kube/cluster_config.hpp"
#include "kube/config_error.hpp"

namespace lug::kube {

// A kubeconfig file, using `context` or, when empty, its current-context. Supports what a
// long-running in-cluster tool can use without external programs: token, tokenFile, client
// certificates (files or -data), certificate-authority (file or -data), tls-server-name.
// Relative paths resolve against the kubeconfig's directory.
cluster_config load_kubeconfig(const std::filesystem::path& file, std::string_view context = {});

}  // namespace lug::kube
