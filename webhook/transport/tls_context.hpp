// Server-side TLS policy and the serving certificate.
//
// Policy: TLS 1.2 minimum (TLS 1.3 is negotiated whenever the client offers it, since
// OpenSSL picks the highest common version), AEAD ciphers with forward secrecy for
// TLS 1.2, no renegotiation, no compression, ALPN offering only "http/1.1" (the API
// server calls webhooks over HTTP/1.1; agreeing to h2 would break it). With a client CA,
// peers must present a certificate that chains to it.
//
// certificate_store owns the current context. Each new connection takes a shared_ptr to
// it, so a reload can swap in a new context without touching live connections.
#pragma once

#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>

#include <boost/asio/ssl/context.hpp>

namespace lug::transport {

struct tls_files {
  std::filesystem::path certificate;  // PEM chain, leaf first
  std::filesystem::path private_key;  // PEM
  std::optional<std::filesystem::path> client_ca;
};

// A certificate or key that cannot be used; the message names the file and the cause.
struct tls_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Builds a context from the files; throws tls_error.
std::shared_ptr<boost::asio::ssl::context> make_server_tls_context(const tls_files& files);

class certificate_store {
 public:
  // Loads the files once; throws tls_error when they cannot be used.
  explicit certificate_store(tls_files files);

  std::shared_ptr<boost::asio::ssl::context> current() const;
  const tls_files& files() const { return files_; }

  // Loads the files again; on failure keeps the current context and throws tls_error.
  void reload();

 private:
  tls_files files_;
  mutable std::mutex mutex_;
  std::shared_ptr<boost::asio::ssl::context> context_;
};

}  // namespace lug::transport
