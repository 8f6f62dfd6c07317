// Fuzz target: the short strings the guard parses from flags, kubeconfigs and request
// targets: Go-style durations (--poll-interval, ?timeout=), API server URLs and the
// path/query split of a request target.
//
// Invariants:
// - a parsed duration is not negative, and format_duration's spelling of it parses back
//   to exactly the same duration;
// - parse_server_url either throws config_error or gives a non-empty host, a port from 1
//   to 65535 and a path prefix that is empty or starts with '/' and has no trailing '/';
// - target_path is a prefix of the target; a query parameter's value lies inside it.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "invariants.hpp"
#include "kube/cluster_config.hpp"
#include "support/duration.hpp"
#include "transport/http_types.hpp"

namespace {

using namespace lug;
using fuzz::require;

void check_duration(std::string_view text) {
  const auto parsed = parse_duration(text);
  if (!parsed) return;
  require(parsed->count() >= 0, "a parsed duration is not negative", text);
  const std::string spelled = format_duration(*parsed);
  const auto again = parse_duration(spelled);
  require(again.has_value() && *again == *parsed, "format_duration's spelling parses back to the same duration",
          std::string(text) + " -> " + spelled);
}

void check_server_url(std::string_view text) {
  kube::server_address address;
  try {
    address = kube::parse_server_url(text, "fuzz");
  } catch (const kube::config_error& e) {
    require(std::string_view(e.what()).find("fuzz") != std::string_view::npos, "a URL error names where the URL came from",
            e.what());
    return;
  }
  require(!address.host.empty(), "a parsed server URL has a host", text);
  require(address.port != 0, "a parsed server URL has a port", text);
  const auto& prefix = address.path_prefix;
  require(prefix.empty() || (prefix.front() == '/' && prefix.back() != '/'),
          "a path prefix is empty or starts with '/' and has no trailing '/'", text);
}

bool lies_within(std::string_view part, std::string_view whole) {
  return part.empty() || (part.data() >= whole.data() && part.data() + part.size() <= whole.data() + whole.size());
}

void check_target(std::string_view text) {
  const auto path = transport::target_path(text);
  require(text.substr(0, path.size()) == path, "the path is a prefix of the target", text);
  require(lies_within(transport::query_parameter(text, "timeout"), text), "a query value lies within the target", text);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  check_duration(text);
  check_server_url(text);
  check_target(text);
  return 0;
}
