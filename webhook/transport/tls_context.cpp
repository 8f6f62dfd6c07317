#include "transport/tls_context.hpp"

#include <array>
#include <string>

#include <openssl/err.h>
#include <openssl/ssl.h>

namespace lug::transport {
namespace {

namespace ssl = boost::asio::ssl;

// TLS 1.2 suites: ECDHE key exchange (forward secrecy) with AEAD ciphers only, the
// Mozilla "intermediate" list. TLS 1.3 suites are OpenSSL's defaults, all of them modern.
constexpr const char* tls12_ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

// ALPN wire format: length-prefixed protocol names.
constexpr std::array<unsigned char, 9> alpn_http11 = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};

int select_alpn(SSL*, const unsigned char** out, unsigned char* outlen, const unsigned char* in, unsigned int inlen,
                void*) {
  unsigned char* selected = nullptr;
  if (SSL_select_next_proto(&selected, outlen, alpn_http11.data(), alpn_http11.size(), in, inlen) !=
      OPENSSL_NPN_NEGOTIATED) {
    // No overlap (a client offering only h2): carry on without ALPN rather than fail,
    // the client then speaks HTTP/1.1 or gives up on its own.
    return SSL_TLSEXT_ERR_NOACK;
  }
  *out = selected;
  return SSL_TLSEXT_ERR_OK;
}

std::string openssl_error_text() {
  const unsigned long code = ERR_get_error();
  ERR_clear_error();
  if (code == 0) return "unknown error";
  std::array<char, 256> buffer{};
  ERR_error_string_n(code, buffer.data(), buffer.size());
  return buffer.data();
}

void check_readable(const std::filesystem::path& path, const char* what) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    throw tls_error(std::string(what) + " " + path.string() + " is not a readable file" +
                    (ec ? ": " + ec.message() : ""));
  }
}

}  // namespace

std::shared_ptr<ssl::context> make_server_tls_context(const tls_files& files) {
  check_readable(files.certificate, "TLS certificate");
  check_readable(files.private_key, "TLS private key");

  auto context = std::make_shared<ssl::context>(ssl::context::tls_server);
  SSL_CTX* native = context->native_handle();
  context->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                       ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 | ssl::context::single_dh_use |
                       ssl::context::no_compression);
  SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION);
  SSL_CTX_set_options(native, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
  if (SSL_CTX_set_cipher_list(native, tls12_ciphers) != 1) {
    throw tls_error("cannot set TLS 1.2 ciphers: " + openssl_error_text());
  }
  SSL_CTX_set_alpn_select_cb(native, select_alpn, nullptr);

  if (SSL_CTX_use_certificate_chain_file(native, files.certificate.c_str()) != 1) {
    throw tls_error("cannot load TLS certificate " + files.certificate.string() + ": " + openssl_error_text());
  }
  if (SSL_CTX_use_PrivateKey_file(native, files.private_key.c_str(), SSL_FILETYPE_PEM) != 1) {
    throw tls_error("cannot load TLS private key " + files.private_key.string() + ": " + openssl_error_text());
  }
  if (SSL_CTX_check_private_key(native) != 1) {
    throw tls_error("TLS private key " + files.private_key.string() + " does not match certificate " +
                    files.certificate.string());
  }

  if (files.client_ca) {
    check_readable(*files.client_ca, "client CA");
    if (SSL_CTX_load_verify_locations(native, files.client_ca->c_str(), nullptr) != 1) {
      throw tls_error("cannot load client CA " + files.client_ca->string() + ": " + openssl_error_text());
    }
    // Tell clients which CAs we accept, as Go's servers do.
    STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(files.client_ca->c_str());
    if (names != nullptr) SSL_CTX_set_client_CA_list(native, names);
    SSL_CTX_set_verify(native, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
  }
  return context;
}

certificate_store::certificate_store(tls_files files)
    : files_(std::move(files)), context_(make_server_tls_context(files_)) {}

std::shared_ptr<ssl::context> certificate_store::current() const {
  std::lock_guard lock(mutex_);
  return context_;
}

void certificate_store::reload() {
  auto fresh = make_server_tls_context(files_);
  std::lock_guard lock(mutex_);
  context_ = std::move(fresh);
}

}  // namespace lug::transport
