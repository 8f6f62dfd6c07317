// Where the Kubernetes API server is and how to prove who we are to it.
//
// A cluster_config is plain data: the server's address (host, port, optional path prefix
// such as Rancher's "/k8s/clusters/c-1"), the CA bundle that must have signed the server's
// certificate, the name to verify that certificate against, and the credentials (a bearer
// token file that is re-read when it rotates, a static token, and/or a client certificate).
// The loaders below build one from two of the three places a config can come from: the
// pod's service account (the default) and explicit flags; kubeconfig.hpp reads the third, a
// kubeconfig file. Every loader either returns a complete config or throws config_error
// with a message a person can act on; nothing here opens a connection. We never turn
// certificate verification off: a source that asks for that is rejected.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "kube/config_error.hpp"

namespace lug::kube {

struct cluster_config {
  std::string host;           // DNS name or IP literal, IPv6 without brackets
  std::uint16_t port = 443;
  std::string path_prefix;    // "" or "/k8s/clusters/c-1": no trailing slash, prepended to every path

  // PEM certificates the server certificate must chain to. Empty means the system trust
  // store (only a kubeconfig cluster without certificate-authority, as kubectl does);
  // verification is on either way.
  std::string ca_pem;
  // Where ca_pem came from ("/var/run/.../ca.crt", "certificate-authority-data of cluster
  // \"prod\" in kubeconfig /x"): a rejected server certificate is most often a wrong CA.
  std::string ca_source;
  // Name (or IP) the server certificate must carry, and the SNI we send when it is a name.
  // Empty: the host.
  std::string tls_server_name;

  // Bearer credentials. The token file wins over the static token (client-go does the same):
  // it is what rotates.
  std::filesystem::path token_file;
  std::string token;
  // TLS client certificate credentials, both PEM; set together or not at all.
  std::string client_certificate_pem;
  std::string client_key_pem;

  // Where this came from, for logs and error messages: "in-cluster service account (...)".
  std::string source;

  // "https://10.96.0.1:443", "https://[fd00::1]:6443/k8s/clusters/c-1".
  std::string server_url() const;
  // "10.96.0.1:443", "[fd00::1]:6443": the server in connection messages.
  std::string host_port() const;
  // The name the server certificate is verified against: tls_server_name, else host.
  const std::string& verify_name() const { return tls_server_name.empty() ? host : tls_server_name; }
};

// Where the kubelet mounts the service account: token, ca.crt and namespace.
inline constexpr std::string_view default_service_account_dir = "/var/run/secrets/kubernetes.io/serviceaccount";

// The pod's own service account: KUBERNETES_SERVICE_HOST / KUBERNETES_SERVICE_PORT from the
// environment, `token` and `ca.crt` from the directory. The token is kept as a file so that
// rotations of bound service-account tokens are picked up.
cluster_config load_in_cluster(const std::filesystem::path& service_account_dir =
                                   std::filesystem::path(default_service_account_dir));

// --kube-api URL --kube-ca-file F --kube-token-file F, all three required.
cluster_config load_from_flags(std::string_view api_url, const std::filesystem::path& ca_file,
                               const std::filesystem::path& token_file);

// The address parts of an API server URL.
struct server_address {
  std::string host;
  std::uint16_t port = 443;
  std::string path_prefix;
};

// Parses "https://host[:port][/prefix]" (IPv6 hosts bracketed). `what` names the URL's
// origin in error messages ("--kube-api", "cluster \"prod\" in kubeconfig /x").
server_address parse_server_url(std::string_view url, std::string_view what);

}  // namespace lug::kube
