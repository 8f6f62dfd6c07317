// The flags that say how to reach the Kubernetes API server, shared by serve, wait and check.
//
// Three ways, in this order of choice: --kubeconfig FILE [--context NAME]; or --kube-api URL
// with --kube-ca-file and --kube-token-file; or, when none of these is given, the pod's own
// service account (in-cluster). Mixing two ways, or giving only part of one, is a
// usage_error that names what is missing or conflicting: a guard that silently picked a
// different API server than the one the operator meant would be worse than one that stops.
#pragma once

#include <cxxopts.hpp>

#include "kube/cluster_config.hpp"

namespace lug::cli {

void add_kube_flags(cxxopts::Options& options);

// Throws usage_error for flag combinations, kube::config_error for unusable files or environment.
kube::cluster_config load_cluster_config(const cxxopts::ParseResult& parsed);

}  // namespace lug::cli
