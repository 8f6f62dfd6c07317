// TLS for talking to the API server, which we always verify.
//
// make_tls_context() builds the client context once per api_client: TLS 1.2 or newer, peer
// verification against the configured CA bundle (or the system store when a kubeconfig
// gives none), ALPN "http/1.1" (the API server would otherwise pick h2, which we do not
// speak), and the client certificate when the config has one. prepare_tls_session() sets,
// per connection, what the certificate must match: an IP SAN when the name to verify is an
// IP literal (the in-cluster 10.96.0.1), else the DNS name, which is also sent as SNI.
#pragma once

#include <string>

#include <boost/asio/ssl/context.hpp>
#include <boost/system/error_code.hpp>
#include <openssl/ssl.h>

#include "kube/cluster_config.hpp"
#include "support/result.hpp"

namespace lug::kube {

// Throws config_error when the CA bundle or client certificate/key cannot be loaded.
boost::asio::ssl::context make_tls_context(const cluster_config& config);

// Fails, saying which setting, when OpenSSL refuses it (out of memory, a name it cannot
// represent).
result<void, std::string> prepare_tls_session(SSL* ssl, const cluster_config& config);

// A person's description of why the handshake on `ssl` failed with `ec`: the certificate
// verification result when that was the cause, with a hint at the likely fix.
std::string describe_tls_failure(const boost::system::error_code& ec, const SSL* ssl, const cluster_config& config);

}  // namespace lug::kube
