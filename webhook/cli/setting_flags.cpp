#include "cli/setting_flags.hpp"

#include <string>
#include <string_view>

#include "cli/flags.hpp"
#include "guard/wait_flags.hpp"

namespace lug::cli {
namespace {

// Kubernetes' limits: a namespace is a DNS-1123 label, an object name a DNS-1123 subdomain.
constexpr std::size_t max_label_length = 63;
constexpr std::size_t max_subdomain_length = 253;

bool is_lower_alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

bool is_dns_name(std::string_view text, std::size_t max_length, bool dots_allowed) {
  if (text.empty() || text.size() > max_length) return false;
  if (!is_lower_alnum(text.front()) || !is_lower_alnum(text.back())) return false;
  for (char c : text) {
    if (!is_lower_alnum(c) && c != '-' && !(dots_allowed && c == '.')) return false;
  }
  return true;
}

std::string checked(const cxxopts::ParseResult& parsed, const std::string& flag, std::size_t max_length,
                    bool dots_allowed, std::string_view rule) {
  auto value = parsed[flag].as<std::string>();
  if (!is_dns_name(value, max_length, dots_allowed)) {
    throw usage_error("invalid value \"" + value + "\" for --" + flag + ": want " + std::string(rule));
  }
  return value;
}

}  // namespace

void add_setting_flags(cxxopts::Options& options) {
  const guard::setting_ref defaults;
  options.add_options("Longhorn setting")
      (guard::wait_flags::setting_namespace, "namespace Longhorn is installed in",
       cxxopts::value<std::string>()->default_value(defaults.namespace_name))
      (guard::wait_flags::setting_name, "name of the Setting that confirms the uninstall",
       cxxopts::value<std::string>()->default_value(defaults.name))
      (guard::wait_flags::setting_api_version, "version of the longhorn.io API to read it with",
       cxxopts::value<std::string>()->default_value(defaults.api_version));
}

guard::setting_ref setting_ref_from_flags(const cxxopts::ParseResult& parsed) {
  guard::setting_ref setting;
  setting.namespace_name = checked(parsed, guard::wait_flags::setting_namespace, max_label_length, false,
                                   "a namespace name: lower-case letters, digits and '-', at most 63");
  setting.name = checked(parsed, guard::wait_flags::setting_name, max_subdomain_length, true,
                         "an object name: lower-case letters, digits, '-' and '.', at most 253");
  setting.api_version = checked(parsed, guard::wait_flags::setting_api_version, max_label_length, false, "an API version such as v1beta2");
  return setting;
}

}  // namespace lug::cli
