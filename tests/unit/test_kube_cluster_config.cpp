// Where the API server is and how we authenticate: the in-cluster, flags and kubeconfig
// loaders, and the API server URL parser they share.
#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string>

#include "admission/base64.hpp"
#include "kube/cluster_config.hpp"
#include "kube/kubeconfig.hpp"
#include "test_support.hpp"

namespace {

namespace fs = std::filesystem;
using lug::kube::cluster_config;
using lug::kube::config_error;
using lug::test::contains;
using lug::test::temp_dir;

const std::string ca_pem = "-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n";
const std::string other_ca_pem = "-----BEGIN CERTIFICATE-----\nMIIBother\n-----END CERTIFICATE-----\n";
const std::string cert_pem = "-----BEGIN CERTIFICATE-----\nMIIBclient\n-----END CERTIFICATE-----\n";
const std::string key_pem = "-----BEGIN PRIVATE KEY-----\nMIIBkey\n-----END PRIVATE KEY-----\n";

std::string base64(const std::string& bytes) { return lug::admission::base64_encode(bytes); }

// Sets (or, with nullopt, unsets) an environment variable for one test, then restores it.
class scoped_env {
 public:
  scoped_env(const char* name, std::optional<std::string> value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    if (value) {
      ::setenv(name, value->c_str(), 1);
    } else {
      ::unsetenv(name);
    }
  }
  ~scoped_env() {
    if (old_) {
      ::setenv(name_, old_->c_str(), 1);
    } else {
      ::unsetenv(name_);
    }
  }
  scoped_env(const scoped_env&) = delete;
  scoped_env& operator=(const scoped_env&) = delete;

 private:
  const char* name_;
  std::optional<std::string> old_;
};

std::string error_of(auto&& load) {
  try {
    load();
  } catch (const config_error& e) {
    return e.what();
  }
  return "(no error)";
}

// What load_in_cluster sees in a pod: the service-account directory's token and ca.crt
// (absent when nullopt) and the KUBERNETES_SERVICE_* variables the kubelet sets. The
// defaults are a working pod; each test names what differs.
struct pod_view {
  std::optional<std::string> token = "sa-token";
  std::optional<std::string> ca = ca_pem;
  std::optional<std::string> host = "10.96.0.1";
  std::string port = "443";
};

class in_cluster_pod {
 public:
  explicit in_cluster_pod(const pod_view& view)
      : host_("KUBERNETES_SERVICE_HOST", view.host), port_("KUBERNETES_SERVICE_PORT", view.port) {
    if (view.token) dir.write("token", *view.token);
    if (view.ca) dir.write("ca.crt", *view.ca);
  }
  cluster_config load() const { return lug::kube::load_in_cluster(dir.path()); }
  std::string error() const {
    return error_of([&] { load(); });
  }

  temp_dir dir;

 private:
  scoped_env host_;
  scoped_env port_;
};

// A kubeconfig with one context "ctx" joining cluster "c" and user "u", whose bodies are given.
std::string kubeconfig(const std::string& cluster_body, const std::string& user_body,
                       const std::string& current = "ctx") {
  return "apiVersion: v1\nkind: Config\ncurrent-context: " + current +
         "\n"
         "contexts:\n- name: ctx\n  context:\n    cluster: c\n    user: u\n"
         "- name: other\n  context:\n    cluster: c2\n    user: u\n"
         "clusters:\n- name: c\n  cluster:\n" +
         cluster_body +
         "- name: c2\n  cluster:\n    server: https://other.example:443\n"
         "users:\n- name: u\n  user:\n" +
         user_body;
}

const std::string plain_cluster = "    server: https://api.example.com:6443\n    certificate-authority-data: " +
                                  base64(ca_pem) + "\n";
const std::string token_user = "    token: static-token\n";

}  // namespace

TEST_SUITE("api server url") {
  TEST_CASE("a host without a port means port 443 and no path prefix") {
    const auto a = lug::kube::parse_server_url("https://api.example.com", "test");
    CHECK(a.host == "api.example.com");
    CHECK(a.port == 443);
    CHECK(a.path_prefix.empty());
  }

  TEST_CASE("a Rancher-style path prefix is kept without its trailing slash") {
    const auto a = lug::kube::parse_server_url("https://rancher.example:8443/k8s/clusters/c-1/", "test");
    CHECK(a.host == "rancher.example");
    CHECK(a.port == 8443);
    CHECK(a.path_prefix == "/k8s/clusters/c-1");
  }

  TEST_CASE("a bracketed IPv6 address is unbracketed, with its port") {
    const auto a = lug::kube::parse_server_url("https://[fd00::1]:6443", "test");
    CHECK(a.host == "fd00::1");
    CHECK(a.port == 6443);
  }

  TEST_CASE("the scheme is matched without regard to case") {
    CHECK(lug::kube::parse_server_url("HTTPS://10.0.0.1:443", "test").host == "10.0.0.1");
  }

  TEST_CASE("plain http is rejected with a message saying TLS is always used") {
    const auto message = error_of([] { lug::kube::parse_server_url("http://api.example.com", "--kube-api"); });
    CHECK(contains(message, "--kube-api"));
    CHECK(contains(message, "http://"));
    CHECK(contains(message, "always uses TLS"));
  }

  TEST_CASE("URLs that are not https://host[:port][/path] are rejected") {
    for (const char* url : {"api.example.com:6443", "https://", "https://:6443", "https://fd00::1:6443",
                            "https://user:pw@api.example.com", "https://api.example.com/?x=1",
                            "https://api.example.com:0", "https://api.example.com:70000",
                            "https://api.example.com:six", "https://[fd00::1"}) {
      CAPTURE(url);
      CHECK_THROWS_AS(lug::kube::parse_server_url(url, "test"), config_error);
    }
  }

  TEST_CASE("server_url brackets IPv6 hosts and appends the prefix") {
    cluster_config config;
    config.host = "fd00::1";
    config.port = 6443;
    config.path_prefix = "/k8s/clusters/c-1";
    CHECK(config.server_url() == "https://[fd00::1]:6443/k8s/clusters/c-1");
    CHECK(config.host_port() == "[fd00::1]:6443");
  }
}

TEST_SUITE("in-cluster config") {
  TEST_CASE("the service account directory and KUBERNETES_SERVICE_* give host, port, token file and CA") {
    const in_cluster_pod pod({.token = "sa-token\n"});
    const auto config = pod.load();
    CHECK(config.host == "10.96.0.1");
    CHECK(config.port == 443);
    CHECK(config.token_file == pod.dir / "token");
    CHECK(config.ca_pem == ca_pem);
    CHECK(config.verify_name() == "10.96.0.1");
    CHECK(contains(config.source, "in-cluster"));
    CHECK(contains(config.ca_source, "ca.crt"));
    CHECK(config.server_url() == "https://10.96.0.1:443");
  }

  TEST_CASE("an IPv6 service host is used as an address and bracketed in the URL") {
    const auto config = in_cluster_pod({.host = "fd00:10:96::1"}).load();
    CHECK(config.host == "fd00:10:96::1");
    CHECK(config.server_url() == "https://[fd00:10:96::1]:443");
  }

  TEST_CASE("outside a pod the error says which variables are missing and what to pass instead") {
    const auto message = in_cluster_pod({.token = std::nullopt, .ca = std::nullopt, .host = std::nullopt}).error();
    CHECK(contains(message, "KUBERNETES_SERVICE_HOST"));
    CHECK(contains(message, "--kubeconfig"));
  }

  TEST_CASE("a missing service account token names the file and automountServiceAccountToken") {
    const in_cluster_pod pod({.token = std::nullopt});
    const auto message = pod.error();
    CHECK(contains(message, (pod.dir / "token").string()));
    CHECK(contains(message, "automountServiceAccountToken"));
  }

  TEST_CASE("an empty service account token is rejected") {
    CHECK(contains(in_cluster_pod({.token = " \n"}).error(), "is empty"));
  }

  TEST_CASE("a CA file without a PEM certificate is rejected naming the file") {
    const auto message = in_cluster_pod({.ca = "not a certificate"}).error();
    CHECK(contains(message, "ca.crt"));
    CHECK(contains(message, "CERTIFICATE"));
  }

  TEST_CASE("a port that is not a number is rejected naming KUBERNETES_SERVICE_PORT") {
    CHECK(contains(in_cluster_pod({.port = "https"}).error(), "KUBERNETES_SERVICE_PORT"));
  }
}

TEST_SUITE("config from flags") {
  TEST_CASE("--kube-api, --kube-ca-file and --kube-token-file give a complete config") {
    temp_dir dir;
    const auto ca = dir.write("ca.pem", ca_pem);
    const auto token = dir.write("token", "t");
    const auto config = lug::kube::load_from_flags("https://127.0.0.1:6443/prefix", ca, token);
    CHECK(config.host == "127.0.0.1");
    CHECK(config.port == 6443);
    CHECK(config.path_prefix == "/prefix");
    CHECK(config.ca_pem == ca_pem);
    CHECK(config.token_file == token);
    CHECK(contains(config.ca_source, "--kube-ca-file"));
  }

  TEST_CASE("an unreadable CA file is named in the error") {
    temp_dir dir;
    const auto token = dir.write("token", "t");
    const auto message =
        error_of([&] { lug::kube::load_from_flags("https://127.0.0.1:6443", dir / "missing.pem", token); });
    CHECK(contains(message, "missing.pem"));
    CHECK(contains(message, "CA bundle"));
  }
}

TEST_SUITE("kubeconfig") {
  TEST_CASE("the current context's cluster and user are used") {
    temp_dir dir;
    const auto file = dir.write("config", kubeconfig(plain_cluster + "    tls-server-name: api.internal\n", token_user));
    const auto config = lug::kube::load_kubeconfig(file);
    CHECK(config.host == "api.example.com");
    CHECK(config.port == 6443);
    CHECK(config.ca_pem == ca_pem);
    CHECK(config.tls_server_name == "api.internal");
    CHECK(config.verify_name() == "api.internal");
    CHECK(config.token == "static-token");
    CHECK(config.token_file.empty());
    CHECK(contains(config.source, file.string()));
    CHECK(contains(config.source, "\"ctx\""));
    CHECK(contains(config.ca_source, "certificate-authority-data"));
  }

  TEST_CASE("a named context overrides current-context") {
    temp_dir dir;
    const auto file = dir.write("config", kubeconfig(plain_cluster, token_user));
    CHECK(lug::kube::load_kubeconfig(file, "other").host == "other.example");
  }

  TEST_CASE("an unknown context is rejected listing the contexts there are") {
    temp_dir dir;
    const auto file = dir.write("config", kubeconfig(plain_cluster, token_user));
    const auto message = error_of([&] { lug::kube::load_kubeconfig(file, "prod"); });
    CHECK(contains(message, "\"prod\""));
    CHECK(contains(message, "\"ctx\""));
    CHECK(contains(message, "\"other\""));
  }

  TEST_CASE("a kubeconfig without current-context asks for --context") {
    temp_dir dir;
    const auto file = dir.write("config", kubeconfig(plain_cluster, token_user, "\"\""));
    CHECK(contains(error_of([&] { lug::kube::load_kubeconfig(file); }), "--context"));
  }

  TEST_CASE("relative file paths resolve against the kubeconfig's directory") {
    temp_dir dir;
    dir.write("certs/ca.pem", ca_pem);
    dir.write("certs/client.pem", cert_pem);
    dir.write("certs/client.key", key_pem);
    dir.write("certs/token", "file-token\n");
    const auto file = dir.write("kube/config",
                                kubeconfig("    server: https://10.0.0.1:6443\n"
                                           "    certificate-authority: ../certs/ca.pem\n",
                                           "    client-certificate: ../certs/client.pem\n"
                                           "    client-key: ../certs/client.key\n"
                                           "    tokenFile: ../certs/token\n"));
    const auto config = lug::kube::load_kubeconfig(file);
    CHECK(config.ca_pem == ca_pem);
    CHECK(config.client_certificate_pem == cert_pem);
    CHECK(config.client_key_pem == key_pem);
    CHECK(fs::equivalent(config.token_file, dir / "certs/token"));
    CHECK(contains(config.ca_source, "ca.pem"));
  }

  TEST_CASE("-data fields win over file fields, as in client-go") {
    temp_dir dir;
    dir.write("ca.pem", other_ca_pem);
    const auto file = dir.write("config", kubeconfig("    server: https://10.0.0.1:6443\n"
                                                     "    certificate-authority: ca.pem\n"
                                                     "    certificate-authority-data: " + base64(ca_pem) + "\n",
                                                     "    client-certificate: missing.pem\n"
                                                     "    client-certificate-data: " + base64(cert_pem) + "\n"
                                                     "    client-key-data: " + base64(key_pem) + "\n"));
    const auto config = lug::kube::load_kubeconfig(file);
    CHECK(config.ca_pem == ca_pem);
    CHECK(config.client_certificate_pem == cert_pem);
    CHECK(config.client_key_pem == key_pem);
  }

  TEST_CASE("a cluster without a certificate authority is verified against the system trust store") {
    temp_dir dir;
    const auto file = dir.write("config", kubeconfig("    server: https://rancher.example/k8s/clusters/c-1\n", token_user));
    const auto config = lug::kube::load_kubeconfig(file);
    CHECK(config.ca_pem.empty());
    CHECK(contains(config.ca_source, "system trust store"));
    CHECK(config.path_prefix == "/k8s/clusters/c-1");
  }

  TEST_CASE("a user without credentials is allowed (the API server decides)") {
    temp_dir dir;
    const auto file = dir.write("config", kubeconfig(plain_cluster, "    {}\n"));
    const auto config = lug::kube::load_kubeconfig(file);
    CHECK(config.token.empty());
    CHECK(config.token_file.empty());
    CHECK(config.client_certificate_pem.empty());
  }

  TEST_CASE("a kubeconfig with an exec plugin is rejected with a message naming exec and its command") {
    temp_dir dir;
    const auto file = dir.write("config", kubeconfig(plain_cluster,
                                                     "    exec:\n      apiVersion: client.authentication.k8s.io/v1\n"
                                                     "      command: aws\n      args: [eks, get-token]\n"));
    const auto message = error_of([&] { lug::kube::load_kubeconfig(file); });
    CHECK(contains(message, "exec"));
    CHECK(contains(message, "\"aws\""));
    CHECK(contains(message, "user \"u\""));
  }

  TEST_CASE("a kubeconfig with an auth-provider is rejected naming auth-provider") {
    temp_dir dir;
    const auto file =
        dir.write("config", kubeconfig(plain_cluster, "    auth-provider:\n      name: oidc\n      config: {}\n"));
    CHECK(contains(error_of([&] { lug::kube::load_kubeconfig(file); }), "auth-provider"));
  }

  TEST_CASE("a kubeconfig with username and password is rejected naming basic auth") {
    temp_dir dir;
    const auto file = dir.write("config", kubeconfig(plain_cluster, "    username: admin\n    password: secret\n"));
    CHECK(contains(error_of([&] { lug::kube::load_kubeconfig(file); }), "basic auth"));
  }

  TEST_CASE("a kubeconfig that impersonates is rejected naming impersonation") {
    temp_dir dir;
    const auto file = dir.write("config", kubeconfig(plain_cluster, token_user + "    as: someone-else\n"));
    CHECK(contains(error_of([&] { lug::kube::load_kubeconfig(file); }), "impersonation"));
  }

  TEST_CASE("insecure-skip-tls-verify: true is rejected because we always verify") {
    temp_dir dir;
    const auto file =
        dir.write("config", kubeconfig(plain_cluster + "    insecure-skip-tls-verify: true\n", token_user));
    const auto message = error_of([&] { lug::kube::load_kubeconfig(file); });
    CHECK(contains(message, "insecure-skip-tls-verify"));
    CHECK(contains(message, "always verifies"));
  }

  TEST_CASE("insecure-skip-tls-verify: false is accepted") {
    temp_dir dir;
    const auto file =
        dir.write("config", kubeconfig(plain_cluster + "    insecure-skip-tls-verify: false\n", token_user));
    CHECK_NOTHROW(lug::kube::load_kubeconfig(file));
  }

  TEST_CASE("a proxy-url is rejected naming proxy-url") {
    temp_dir dir;
    const auto file =
        dir.write("config", kubeconfig(plain_cluster + "    proxy-url: http://proxy:3128\n", token_user));
    CHECK(contains(error_of([&] { lug::kube::load_kubeconfig(file); }), "proxy-url"));
  }

  TEST_CASE("an http:// server is rejected naming the cluster") {
    temp_dir dir;
    const auto file = dir.write("config", kubeconfig("    server: http://api.example.com\n", token_user));
    const auto message = error_of([&] { lug::kube::load_kubeconfig(file); });
    CHECK(contains(message, "http://"));
    CHECK(contains(message, "cluster \"c\""));
  }

  TEST_CASE("invalid base64 in a -data field is rejected naming the field") {
    temp_dir dir;
    const auto file = dir.write(
        "config", kubeconfig("    server: https://a.example\n    certificate-authority-data: '%%%'\n", token_user));
    CHECK(contains(error_of([&] { lug::kube::load_kubeconfig(file); }), "certificate-authority-data"));
  }

  TEST_CASE("base64 data wrapped over several lines is accepted") {
    temp_dir dir;
    std::string wrapped = base64(ca_pem);
    wrapped.insert(20, "\n      ");
    const auto file = dir.write(
        "config", kubeconfig("    server: https://a.example\n    certificate-authority-data: |\n      " + wrapped + "\n",
                             token_user));
    CHECK(lug::kube::load_kubeconfig(file).ca_pem == ca_pem);
  }

  TEST_CASE("a client certificate without its key is rejected") {
    temp_dir dir;
    const auto file =
        dir.write("config", kubeconfig(plain_cluster, "    client-certificate-data: " + base64(cert_pem) + "\n"));
    CHECK(contains(error_of([&] { lug::kube::load_kubeconfig(file); }), "no client-key"));
  }

  TEST_CASE("a missing tokenFile is named in the error") {
    temp_dir dir;
    const auto file = dir.write("config", kubeconfig(plain_cluster, "    tokenFile: nowhere/token\n"));
    CHECK(contains(error_of([&] { lug::kube::load_kubeconfig(file); }), "nowhere/token"));
  }

  TEST_CASE("a file that is not YAML is rejected naming the file") {
    temp_dir dir;
    const auto file = dir.write("config", "clusters: [unclosed\n");
    const auto message = error_of([&] { lug::kube::load_kubeconfig(file); });
    CHECK(contains(message, file.string()));
    CHECK(contains(message, "YAML"));
  }

  TEST_CASE("a missing kubeconfig file is named in the error") {
    temp_dir dir;
    CHECK(contains(error_of([&] { lug::kube::load_kubeconfig(dir / "nope"); }), "nope"));
  }
}
