#include "cli/listen_address.hpp"

#include <charconv>

#include "cli/flags.hpp"

namespace lug::cli {

boost::asio::ip::tcp::endpoint parse_listen_address(std::string_view text, std::string_view flag) {
  const auto fail = [&] {
    return usage_error("invalid value \"" + std::string(text) + "\" for " + std::string(flag) +
                       ": want ADDRESS:PORT such as 0.0.0.0:8443 or [::]:8443");
  };
  const auto colon = text.rfind(':');
  if (colon == std::string_view::npos) throw fail();
  std::string_view host = text.substr(0, colon);
  const std::string_view port_text = text.substr(colon + 1);
  unsigned port = 0;
  const auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (port_text.empty() || ec != std::errc{} || end != port_text.data() + port_text.size() || port > 65535) throw fail();
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  if (host.empty()) host = "0.0.0.0";
  boost::system::error_code parse_ec;
  const auto address = boost::asio::ip::make_address(std::string(host), parse_ec);
  if (parse_ec) throw fail();
  return {address, static_cast<unsigned short>(port)};
}

std::string describe_endpoint(const boost::asio::ip::tcp::endpoint& endpoint) {
  const auto address = endpoint.address();
  const std::string host = address.is_v6() ? "[" + address.to_string() + "]" : address.to_string();
  return host + ":" + std::to_string(endpoint.port());
}

}  // namespace lug::cli
