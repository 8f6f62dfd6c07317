#include "kube/kubeconfig.hpp"

#include <openssl/evp.h>
#include <yaml-cpp/yaml.h>

#include <cctype>
#include <vector>

#include "kube/config_file.hpp"

namespace lug::kube {
namespace {

std::string in_quotes(std::string_view text) { return "\"" + std::string(text) + "\""; }

// Everything we read from one kubeconfig, so that messages can say where a field came from.
struct kubeconfig_file {
  std::filesystem::path path;
  YAML::Node root;

  std::string where(std::string_view section, std::string_view name) const {
    return std::string(section) + " " + in_quotes(name) + " in kubeconfig " + path.string();
  }

  // Paths inside a kubeconfig are relative to the kubeconfig's own directory, as kubectl reads them.
  std::filesystem::path resolve(const std::string& file) const {
    std::filesystem::path p(file);
    return p.is_relative() ? path.parent_path() / p : p;
  }
};

// A string field of a map; "" when absent or null. Throws when it is a list or a map.
std::string scalar(const YAML::Node& map, const char* key, std::string_view where) {
  const YAML::Node value = map[key];
  if (!value.IsDefined() || value.IsNull()) return {};
  if (!value.IsScalar()) {
    throw config_error("field " + in_quotes(key) + " of " + std::string(where) + " must be a string");
  }
  return value.Scalar();
}

bool has(const YAML::Node& map, const char* key) {
  const YAML::Node value = map[key];
  return value.IsDefined() && !value.IsNull();
}

// Finds `name` in a list like `clusters: [{name: x, cluster: {...}}]` and returns the inner
// map (`cluster: {...}`).
YAML::Node find_named(const kubeconfig_file& kc, const char* list_key, const char* item_key, const std::string& name) {
  const YAML::Node list = kc.root[list_key];
  std::vector<std::string> names;
  if (list.IsDefined() && !list.IsNull()) {
    if (!list.IsSequence()) {
      throw config_error("field " + in_quotes(list_key) + " of kubeconfig " + kc.path.string() + " must be a list");
    }
    for (const auto& entry : list) {
      if (!entry.IsMap()) continue;
      const std::string entry_name = scalar(entry, "name", std::string(list_key) + " in kubeconfig " + kc.path.string());
      if (entry_name == name) {
        const YAML::Node inner = entry[item_key];
        if (inner.IsDefined() && !inner.IsNull() && !inner.IsMap()) {
          throw config_error("field " + in_quotes(item_key) + " of " + kc.where(item_key, name) + " must be a map");
        }
        return inner.IsDefined() && !inner.IsNull() ? inner : YAML::Node(YAML::NodeType::Map);
      }
      names.push_back(entry_name);
    }
  }
  std::string known;
  for (const auto& n : names) known += (known.empty() ? "" : ", ") + in_quotes(n);
  throw config_error("kubeconfig " + kc.path.string() + " has no " + item_key + " named " + in_quotes(name) + " (" +
                     (known.empty() ? std::string("it defines none") : "it has " + known) + ")");
}

std::string decode_base64(std::string_view text, std::string_view field, std::string_view where) {
  std::string compact;
  compact.reserve(text.size());
  for (char c : text) {
    if (std::isspace(static_cast<unsigned char>(c)) == 0) compact += c;
  }
  const auto invalid = [&] {
    return config_error("field " + in_quotes(field) + " of " + std::string(where) + " is not valid base64");
  };
  if (compact.empty() || compact.size() % 4 != 0) throw invalid();
  std::string decoded(compact.size() / 4 * 3, '\0');
  const int length = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(decoded.data()),
                                     reinterpret_cast<const unsigned char*>(compact.data()),
                                     static_cast<int>(compact.size()));
  if (length < 0) throw invalid();
  // EVP_DecodeBlock counts the zero bytes that '=' padding stands for; drop them.
  std::size_t padding = 0;
  if (compact.back() == '=') ++padding;
  if (compact.size() > 1 && compact[compact.size() - 2] == '=') ++padding;
  decoded.resize(static_cast<std::size_t>(length) - padding);
  return decoded;
}

// `<field>-data` (base64) wins over `<field>` (a file), as in client-go. "" when neither is set.
std::string data_or_file(const kubeconfig_file& kc, const YAML::Node& map, const std::string& field,
                         std::string_view what, std::string_view where) {
  const std::string data_field = field + "-data";
  const std::string data = scalar(map, data_field.c_str(), where);
  if (!data.empty()) return decode_base64(data, data_field, where);
  const std::string file = scalar(map, field.c_str(), where);
  if (file.empty()) return {};
  return read_config_file(kc.resolve(file), what);
}

void reject_unsupported_cluster_fields(const YAML::Node& cluster, std::string_view where) {
  const YAML::Node insecure = cluster["insecure-skip-tls-verify"];
  if (insecure.IsDefined() && insecure.IsScalar() && insecure.as<bool>()) {
    throw config_error(std::string(where) +
                       " sets insecure-skip-tls-verify: true, which is not supported: the guard always verifies the "
                       "API server's certificate; give the cluster's certificate-authority instead");
  }
  if (has(cluster, "proxy-url")) {
    throw config_error(std::string(where) +
                       " sets proxy-url, which is not supported: the guard connects to the API server directly");
  }
}

void reject_unsupported_user_fields(const YAML::Node& user, std::string_view where) {
  if (has(user, "exec")) {
    const std::string command = user["exec"].IsMap() ? scalar(user["exec"], "command", where) : std::string{};
    throw config_error(std::string(where) + " uses an exec credential plugin" +
                       (command.empty() ? std::string{} : " (" + in_quotes(command) + ")") +
                       ", which is not supported: the guard runs no external programs; use a kubeconfig whose user "
                       "has a token, tokenFile or client certificate (for example a service account token)");
  }
  if (has(user, "auth-provider")) {
    throw config_error(std::string(where) +
                       " uses an auth-provider, which is not supported; use a token, tokenFile or client "
                       "certificate");
  }
  if (has(user, "username") || has(user, "password")) {
    throw config_error(std::string(where) +
                       " uses username/password (basic auth), which is not supported; use a token, tokenFile or "
                       "client certificate");
  }
  for (const char* key : {"as", "as-uid", "as-groups", "as-user-extra"}) {
    if (has(user, key)) {
      throw config_error(std::string(where) + " sets " + key +
                         " (impersonation), which is not supported; use the credentials of the identity itself");
    }
  }
}

// The cluster's address, CA and server name.
void read_cluster(const kubeconfig_file& kc, const std::string& name, cluster_config& config) {
  const YAML::Node cluster = find_named(kc, "clusters", "cluster", name);
  const std::string where = kc.where("cluster", name);
  reject_unsupported_cluster_fields(cluster, where);

  const std::string server = scalar(cluster, "server", where);
  if (server.empty()) throw config_error(where + " has no server");
  auto address = parse_server_url(server, where);
  config.host = std::move(address.host);
  config.port = address.port;
  config.path_prefix = std::move(address.path_prefix);
  config.tls_server_name = scalar(cluster, "tls-server-name", where);
  config.ca_pem = data_or_file(kc, cluster, "certificate-authority", "CA bundle", where);
  if (config.ca_pem.empty()) {
    config.ca_source = "the system trust store (" + where + " sets no certificate-authority)";
  } else {
    require_pem(config.ca_pem, "CERTIFICATE", "certificate-authority", where);
    config.ca_source = has(cluster, "certificate-authority-data")
                           ? "certificate-authority-data of " + where
                           : kc.resolve(scalar(cluster, "certificate-authority", where)).string();
  }
}

// The user's credentials: token, tokenFile, client certificate and key.
void read_user(const kubeconfig_file& kc, const std::string& name, cluster_config& config) {
  const YAML::Node user = find_named(kc, "users", "user", name);
  const std::string where = kc.where("user", name);
  reject_unsupported_user_fields(user, where);

  config.token = scalar(user, "token", where);
  const std::string token_file = scalar(user, "tokenFile", where);
  if (!token_file.empty()) {
    config.token_file = kc.resolve(token_file);
    read_config_file(config.token_file, "bearer token file");  // fail now, not on the first request
  }
  config.client_certificate_pem = data_or_file(kc, user, "client-certificate", "client certificate", where);
  config.client_key_pem = data_or_file(kc, user, "client-key", "client key", where);
  if (config.client_certificate_pem.empty() != config.client_key_pem.empty()) {
    throw config_error(where + " has a client " +
                       (config.client_key_pem.empty() ? "certificate but no client-key" : "key but no client-certificate") +
                       ": both are needed");
  }
  if (!config.client_certificate_pem.empty()) {
    require_pem(config.client_certificate_pem, "CERTIFICATE", "client-certificate", where);
    require_pem(config.client_key_pem, "PRIVATE KEY", "client-key", where);
  }
}

}  // namespace

cluster_config load_kubeconfig(const std::filesystem::path& file, std::string_view context) {
  kubeconfig_file kc{file, {}};
  const std::string text = read_config_file(file, "kubeconfig");
  try {
    kc.root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    throw config_error("kubeconfig " + file.string() + " is not valid YAML: " + e.what());
  }
  if (!kc.root.IsMap()) {
    throw config_error("kubeconfig " + file.string() + " is not a kubeconfig: want a map with clusters, users, contexts");
  }

  try {
    std::string context_name(context);
    if (context_name.empty()) context_name = scalar(kc.root, "current-context", "kubeconfig " + file.string());
    if (context_name.empty()) {
      throw config_error("kubeconfig " + file.string() + " has no current-context; pass --context NAME");
    }
    const YAML::Node ctx = find_named(kc, "contexts", "context", context_name);
    const std::string context_where = kc.where("context", context_name);
    const std::string cluster_name = scalar(ctx, "cluster", context_where);
    const std::string user_name = scalar(ctx, "user", context_where);
    if (cluster_name.empty()) throw config_error(context_where + " names no cluster");

    cluster_config config;
    read_cluster(kc, cluster_name, config);
    if (!user_name.empty()) read_user(kc, user_name, config);  // no user: anonymous, the API server decides
    config.source = "kubeconfig " + file.string() + ", context " + in_quotes(context_name);
    return config;
  } catch (const YAML::Exception& e) {
    // A field of the wrong type (a list where a string belongs, a non-boolean flag).
    throw config_error("kubeconfig " + file.string() + " has an unexpected value: " + e.what());
  }
}

}  // namespace lug::kube
