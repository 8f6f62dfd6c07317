// Listening addresses (--listen, --health-probe-listen, --metrics-listen): "0.0.0.0:8443",
// "127.0.0.1:0", "[::]:8443", ":8443" (all IPv4 interfaces).
#pragma once

#include <string>
#include <string_view>

#include <boost/asio/ip/tcp.hpp>

namespace lug::cli {

// Throws usage_error, naming `flag`, for anything that is not a literal address and a port.
boost::asio::ip::tcp::endpoint parse_listen_address(std::string_view text, std::string_view flag = "--listen");

// "127.0.0.1:8443" or "[::1]:8443".
std::string describe_endpoint(const boost::asio::ip::tcp::endpoint& endpoint);

}  // namespace lug::cli
