#include "kube/cluster_config.hpp"

#include <charconv>
#include <cstdlib>

#include "kube/config_error.hpp"
#include "kube/config_file.hpp"

namespace lug::kube {
namespace {

std::string in_quotes(std::string_view text) { return "\"" + std::string(text) + "\""; }

bool starts_with_ignoring_case(std::string_view text, std::string_view prefix) {
  if (text.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    const char c = text[i] >= 'A' && text[i] <= 'Z' ? static_cast<char>(text[i] - 'A' + 'a') : text[i];
    if (c != prefix[i]) return false;
  }
  return true;
}

std::uint16_t parse_port(std::string_view text, std::string_view what, std::string_view context) {
  unsigned value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc{} || end != text.data() + text.size() || value == 0 || value > 65535) {
    throw config_error(std::string(what) + ": invalid port " + in_quotes(text) + " in " + std::string(context) +
                       ": want a number from 1 to 65535");
  }
  return static_cast<std::uint16_t>(value);
}

// The token must be readable and non-empty now; bearer_token re-reads it as it rotates.
void require_token_file(const std::filesystem::path& file, std::string_view hint) {
  std::string text;
  try {
    text = read_config_file(file, "bearer token file");
  } catch (const config_error& e) {
    throw config_error(std::string(e.what()) + std::string(hint));
  }
  if (text.find_first_not_of(" \t\r\n") == std::string::npos) {
    throw config_error("bearer token file " + file.string() + " is empty" + std::string(hint));
  }
}

std::string read_ca_bundle(const std::filesystem::path& file) {
  std::string pem = read_config_file(file, "CA bundle");
  require_pem(pem, "CERTIFICATE", "CA bundle", file.string());
  return pem;
}

}  // namespace

std::string cluster_config::host_port() const {
  const bool ipv6 = host.find(':') != std::string::npos;
  return (ipv6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

std::string cluster_config::server_url() const { return "https://" + host_port() + path_prefix; }

server_address parse_server_url(std::string_view url, std::string_view what) {
  constexpr std::string_view https = "https://";
  if (starts_with_ignoring_case(url, "http://")) {
    throw config_error(std::string(what) + ": the API server URL " + in_quotes(url) +
                       " is plain http://, which is not supported: the guard always uses TLS and verifies the "
                       "server's certificate; use the https:// address");
  }
  if (!starts_with_ignoring_case(url, https)) {
    throw config_error(std::string(what) + ": the API server URL " + in_quotes(url) +
                       " does not start with https://; want https://host[:port][/path]");
  }
  const std::string_view rest = url.substr(https.size());
  const auto authority_end = rest.find_first_of("/?#");
  const std::string_view authority = rest.substr(0, authority_end);
  std::string_view path = authority_end == std::string_view::npos ? std::string_view{} : rest.substr(authority_end);

  if (authority.find('@') != std::string_view::npos) {
    throw config_error(std::string(what) + ": the API server URL " + in_quotes(url) +
                       " carries user information; give credentials as a token or client certificate instead");
  }
  if (path.find_first_of("?#") != std::string_view::npos) {
    throw config_error(std::string(what) + ": the API server URL " + in_quotes(url) +
                       " has a query or fragment; want https://host[:port][/path]");
  }

  server_address address;
  if (!authority.empty() && authority.front() == '[') {
    const auto close = authority.find(']');
    if (close == std::string_view::npos) {
      throw config_error(std::string(what) + ": unclosed '[' in the API server URL " + in_quotes(url));
    }
    address.host = std::string(authority.substr(1, close - 1));
    const auto after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') {
        throw config_error(std::string(what) + ": unexpected " + in_quotes(after) + " after the IPv6 address in " +
                           in_quotes(url));
      }
      address.port = parse_port(after.substr(1), what, url);
    }
  } else {
    const auto colon = authority.find(':');
    if (colon != std::string_view::npos && authority.find(':', colon + 1) != std::string_view::npos) {
      throw config_error(std::string(what) + ": the API server URL " + in_quotes(url) +
                         " has an unbracketed IPv6 address; write it as https://[address]:port");
    }
    address.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) address.port = parse_port(authority.substr(colon + 1), what, url);
  }
  if (address.host.empty()) {
    throw config_error(std::string(what) + ": the API server URL " + in_quotes(url) + " has no host");
  }
  while (!path.empty() && path.back() == '/') path.remove_suffix(1);
  address.path_prefix = std::string(path);
  return address;
}

cluster_config load_in_cluster(const std::filesystem::path& service_account_dir) {
  const char* host = std::getenv("KUBERNETES_SERVICE_HOST");
  const char* port = std::getenv("KUBERNETES_SERVICE_PORT");
  if (host == nullptr || *host == '\0' || port == nullptr || *port == '\0') {
    throw config_error(
        "no in-cluster API server: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT are not both set, so this "
        "is not running in a pod; outside a cluster pass --kubeconfig, or --kube-api with --kube-ca-file and "
        "--kube-token-file");
  }
  cluster_config config;
  std::string_view host_text = host;
  if (host_text.size() > 2 && host_text.front() == '[' && host_text.back() == ']') {
    host_text = host_text.substr(1, host_text.size() - 2);
  }
  config.host = std::string(host_text);
  config.port = parse_port(port, "KUBERNETES_SERVICE_PORT", "the environment");

  const std::string mount_hint =
      " (is a service account token mounted into this pod? automountServiceAccountToken must not be false)";
  config.token_file = service_account_dir / "token";
  require_token_file(config.token_file, mount_hint);
  try {
    config.ca_pem = read_ca_bundle(service_account_dir / "ca.crt");
    config.ca_source = (service_account_dir / "ca.crt").string();
  } catch (const config_error& e) {
    throw config_error(e.what() + mount_hint);
  }
  config.source = "in-cluster service account (" + service_account_dir.string() + ")";
  return config;
}

cluster_config load_from_flags(std::string_view api_url, const std::filesystem::path& ca_file,
                               const std::filesystem::path& token_file) {
  auto address = parse_server_url(api_url, "--kube-api");
  cluster_config config;
  config.host = std::move(address.host);
  config.port = address.port;
  config.path_prefix = std::move(address.path_prefix);
  config.ca_pem = read_ca_bundle(ca_file);
  config.ca_source = "--kube-ca-file " + ca_file.string();
  config.token_file = token_file;
  require_token_file(config.token_file, "");
  config.source = "flags --kube-api, --kube-ca-file and --kube-token-file";
  return config;
}

}  // namespace lug::kube
