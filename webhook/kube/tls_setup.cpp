#include "kube/tls_setup.hpp"

#include <boost/asio/ip/address.hpp>
#include <openssl/x509v3.h>

#include "kube/config_error.hpp"

namespace lug::kube {
namespace {

namespace ssl = boost::asio::ssl;

// ALPN wire format: length-prefixed protocol names.
constexpr unsigned char alpn_http_1_1[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};

bool is_ip_literal(const std::string& name) {
  boost::system::error_code ec;
  boost::asio::ip::make_address(name, ec);
  return !ec;
}

}  // namespace

ssl::context make_tls_context(const cluster_config& config) {
  ssl::context context(ssl::context::tls_client);
  if (SSL_CTX_set_min_proto_version(context.native_handle(), TLS1_2_VERSION) != 1) {
    throw config_error("cannot restrict TLS to version 1.2 or newer");
  }
  context.set_options(ssl::context::default_workarounds | ssl::context::no_compression);
  if (SSL_CTX_set_alpn_protos(context.native_handle(), alpn_http_1_1, sizeof alpn_http_1_1) != 0) {
    throw config_error("cannot set TLS ALPN to http/1.1");
  }
  context.set_verify_mode(ssl::verify_peer);

  boost::system::error_code ec;
  if (config.ca_pem.empty()) {
    context.set_default_verify_paths(ec);
    if (ec) throw config_error("cannot load the system's trusted CA certificates: " + ec.message());
  } else {
    context.add_certificate_authority(boost::asio::buffer(config.ca_pem), ec);
    if (ec) {
      throw config_error("the CA bundle " + config.ca_source + " cannot be loaded: " + ec.message());
    }
  }
  if (!config.client_certificate_pem.empty()) {
    context.use_certificate_chain(boost::asio::buffer(config.client_certificate_pem), ec);
    if (ec) {
      throw config_error("the client certificate from " + config.source + " cannot be loaded: " + ec.message());
    }
    context.use_private_key(boost::asio::buffer(config.client_key_pem), ssl::context::pem, ec);
    if (ec) throw config_error("the client key from " + config.source + " cannot be loaded: " + ec.message());
    if (SSL_CTX_check_private_key(context.native_handle()) != 1) {
      throw config_error("the client key from " + config.source + " does not match its client certificate");
    }
  }
  return context;
}

result<void, std::string> prepare_tls_session(SSL* ssl, const cluster_config& config) {
  const std::string& name = config.verify_name();
  if (is_ip_literal(name)) {
    // No SNI for IP literals (RFC 6066 allows only host names there); verify the IP SAN.
    if (X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), name.c_str()) != 1) {
      return unexpected("cannot set the IP address " + name + " for certificate verification");
    }
    return {};
  }
  SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
  if (SSL_set1_host(ssl, name.c_str()) != 1) {
    return unexpected("cannot set the host name " + name + " for certificate verification");
  }
  // SSL_set_tlsext_host_name, spelled out: the macro casts in C style.
  if (SSL_ctrl(ssl, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name, const_cast<char*>(name.c_str())) != 1) {
    return unexpected("cannot set the TLS server name (SNI) " + name);
  }
  return {};
}

std::string describe_tls_failure(const boost::system::error_code& ec, const SSL* ssl, const cluster_config& config) {
  const std::string server = config.host_port();
  const long verify = ssl != nullptr ? SSL_get_verify_result(ssl) : X509_V_OK;
  if (verify == X509_V_OK) return "TLS handshake with " + server + " failed: " + ec.message();

  std::string text = "TLS handshake with " + server + " failed: the server's certificate was rejected: " +
                     X509_verify_cert_error_string(verify);
  switch (verify) {
    case X509_V_ERR_HOSTNAME_MISMATCH:
    case X509_V_ERR_IP_ADDRESS_MISMATCH:
      text += " (it is not valid for " + config.verify_name() +
              "; if the server is reached under another name, set tls-server-name)";
      break;
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
    case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
      text += " (it is not signed by a CA in " + config.ca_source + ")";
      break;
    case X509_V_ERR_CERT_HAS_EXPIRED:
    case X509_V_ERR_CERT_NOT_YET_VALID:
      text += " (check the server's certificate dates and this machine's clock)";
      break;
    default:
      break;
  }
  return text;
}

}  // namespace lug::kube
