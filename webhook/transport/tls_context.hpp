// Server-side TLS policy, and building a context from a serving certificate and key.
//
// Policy: TLS 1.2 minimum (TLS 1.3 is negotiated whenever the client offers it, since
// OpenSSL picks the highest common version), AEAD ciphers with forward secrecy for
// TLS 1.2, no renegotiation, no compression, ALPN offering only "http/1.1" (the API
// server calls webhooks over HTTP/1.1; agreeing to h2 would break it). With a client CA,
// peers must present a certificate that chains to it.
//
// The files are read once into tls_material and the context is built from those bytes,
// so that what certificate_store compares to notice a change is exactly what it loads.
// A pair is refused when the certificate or key does not parse, when they do not belong
// together, or when the certificate has already expired; every message names the file.
#pragma once

#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>

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

// The PEM text of tls_files.
struct tls_material {
  std::string certificate;
  std::string private_key;
  std::optional<std::string> client_ca;

  bool operator==(const tls_material&) const = default;
};

// Reads the files (following symlinks, as a Secret volume's are); throws tls_error.
tls_material read_tls_material(const tls_files& files);

// What an operator wants to know about the serving certificate (the leaf).
struct certificate_info {
  std::string subject;             // RFC 2253, e.g. "CN=longhorn-uninstall-guard.svc"
  std::string serial;              // upper-case hex, as `openssl x509 -serial` prints it
  std::string sha256_fingerprint;  // upper-case hex pairs joined by ':', as `openssl x509 -fingerprint -sha256`
  std::chrono::system_clock::time_point not_before;
  std::chrono::system_clock::time_point not_after;
};

struct server_tls {
  std::shared_ptr<boost::asio::ssl::context> context;
  certificate_info certificate;
};

// Builds a server context from `material`; `files` only names the files in messages.
// Refuses a certificate that expired before `now`. Throws tls_error.
server_tls make_server_tls(const tls_material& material, const tls_files& files,
                           std::chrono::system_clock::time_point now = std::chrono::system_clock::now());

// "2026-11-25T10:00:00Z"
std::string format_utc(std::chrono::system_clock::time_point time);

}  // namespace lug::transport
