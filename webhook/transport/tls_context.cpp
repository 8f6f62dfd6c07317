#include "transport/tls_context.hpp"

#include <array>
#include <ctime>
#include <string>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "support/small_file.hpp"

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

// A serving chain is a few KiB and a CA bundle a few hundred (Mozilla's whole set is
// ~220 KiB); anything past 1 MiB is the wrong file, and reading it every few seconds
// (certificate_watcher) would be wasteful.
constexpr std::uintmax_t max_pem_file_bytes = 1024 * 1024;

using bio_ptr = std::unique_ptr<BIO, decltype(&BIO_free)>;
using x509_ptr = std::unique_ptr<X509, decltype(&X509_free)>;
using pkey_ptr = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;
using bignum_ptr = std::unique_ptr<BIGNUM, decltype(&BN_free)>;

struct x509_stack_free {
  void operator()(STACK_OF(X509) * stack) const { sk_X509_pop_free(stack, X509_free); }
};
using x509_stack_ptr = std::unique_ptr<STACK_OF(X509), x509_stack_free>;

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

// A server has nobody to ask for a passphrase: an encrypted key fails to load instead of
// OpenSSL prompting on a terminal that is not there.
int no_passphrase(char*, int, int, void*) { return -1; }

std::string openssl_error_text(const char* fallback = "unknown error") {
  const unsigned long code = ERR_peek_last_error();
  ERR_clear_error();
  if (code == 0) return fallback;
  std::array<char, 256> buffer{};
  ERR_error_string_n(code, buffer.data(), buffer.size());
  return buffer.data();
}

// True when the last error only says that the text held no further PEM block.
bool only_end_of_pem() {
  const unsigned long code = ERR_peek_last_error();
  return code == 0 || (ERR_GET_LIB(code) == ERR_LIB_PEM && ERR_GET_REASON(code) == PEM_R_NO_START_LINE);
}

std::string read_pem_file(const std::filesystem::path& path, const char* what) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    throw tls_error(std::string(what) + " " + path.string() + " is not a readable file" +
                    (ec ? ": " + ec.message() : ""));
  }
  auto read = read_small_file(path, max_pem_file_bytes);
  if (!read) {
    const auto& error = read.error();
    if (error.too_large) {
      throw tls_error(std::string(what) + " " + path.string() + " is " + std::to_string(error.size) +
                      " bytes, more than any PEM certificate or key; is it the right file?");
    }
    throw tls_error(std::string(what) + " " + path.string() + " cannot be opened: " + error.reason);
  }
  return std::move(read).value();
}

bio_ptr memory_bio(const std::string& text) {
  bio_ptr bio(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())), &BIO_free);
  if (!bio) throw tls_error("out of memory reading PEM text");
  return bio;
}

// Every certificate in `text`, in order; empty when there is none. Throws on a broken block.
x509_stack_ptr read_certificates(const std::string& text, const std::string& where) {
  x509_stack_ptr certificates(sk_X509_new_null());
  if (!certificates) throw tls_error("out of memory reading " + where);
  const auto bio = memory_bio(text);
  ERR_clear_error();
  while (X509* certificate = PEM_read_bio_X509(bio.get(), nullptr, no_passphrase, nullptr)) {
    if (sk_X509_push(certificates.get(), certificate) == 0) {
      X509_free(certificate);
      throw tls_error("out of memory reading " + where);
    }
  }
  if (!only_end_of_pem()) throw tls_error("cannot load " + where + ": " + openssl_error_text());
  ERR_clear_error();
  return certificates;
}

std::chrono::system_clock::time_point to_time_point(const ASN1_TIME* time) {
  std::tm parts{};
  if (time == nullptr || ASN1_TIME_to_tm(time, &parts) != 1) return {};
  return std::chrono::system_clock::from_time_t(timegm(&parts));
}

std::string hex_pairs(const unsigned char* bytes, unsigned int size, const char* separator) {
  static constexpr char digits[] = "0123456789ABCDEF";
  std::string text;
  for (unsigned int i = 0; i < size; ++i) {
    if (i != 0) text += separator;
    text += digits[bytes[i] >> 4];
    text += digits[bytes[i] & 0xF];
  }
  return text;
}

std::string subject_of(X509* certificate) {
  const bio_ptr bio(BIO_new(BIO_s_mem()), &BIO_free);
  if (!bio || X509_NAME_print_ex(bio.get(), X509_get_subject_name(certificate), 0, XN_FLAG_RFC2253) < 0) return {};
  std::string text(BIO_ctrl_pending(bio.get()), '\0');
  const int n = BIO_read(bio.get(), text.data(), static_cast<int>(text.size()));
  text.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
  return text;
}

std::string serial_of(X509* certificate) {
  const bignum_ptr number(ASN1_INTEGER_to_BN(X509_get0_serialNumber(certificate), nullptr), &BN_free);
  if (!number) return {};
  char* hex = BN_bn2hex(number.get());
  if (hex == nullptr) return {};
  std::string text(hex);
  OPENSSL_free(hex);
  return text;
}

certificate_info describe(X509* certificate) {
  certificate_info info;
  info.subject = subject_of(certificate);
  info.serial = serial_of(certificate);
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int digest_size = 0;
  if (X509_digest(certificate, EVP_sha256(), digest.data(), &digest_size) == 1) {
    info.sha256_fingerprint = hex_pairs(digest.data(), digest_size, ":");
  }
  info.not_before = to_time_point(X509_get0_notBefore(certificate));
  info.not_after = to_time_point(X509_get0_notAfter(certificate));
  return info;
}

void apply_policy(ssl::context& context) {
  SSL_CTX* native = context.native_handle();
  context.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                      ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 | ssl::context::single_dh_use |
                      ssl::context::no_compression);
  SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION);
  SSL_CTX_set_options(native, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
  if (SSL_CTX_set_cipher_list(native, tls12_ciphers) != 1) {
    throw tls_error("cannot set TLS 1.2 ciphers: " + openssl_error_text());
  }
  SSL_CTX_set_alpn_select_cb(native, select_alpn, nullptr);
}

void use_client_ca(SSL_CTX* native, const std::string& pem, const std::filesystem::path& path) {
  const auto certificates = read_certificates(pem, "client CA " + path.string());
  const int count = sk_X509_num(certificates.get());
  if (count == 0) throw tls_error("client CA " + path.string() + " holds no PEM certificate");
  X509_STORE* store = SSL_CTX_get_cert_store(native);
  for (int i = 0; i < count; ++i) {
    X509* ca = sk_X509_value(certificates.get(), i);
    // Both copy: the store for verifying peers, the list to tell clients which CAs we
    // accept, as Go's servers do.
    if (X509_STORE_add_cert(store, ca) != 1 || SSL_CTX_add_client_CA(native, ca) != 1) {
      throw tls_error("cannot load client CA " + path.string() + ": " + openssl_error_text());
    }
  }
  SSL_CTX_set_verify(native, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
}

}  // namespace

tls_material read_tls_material(const tls_files& files) {
  tls_material material;
  material.certificate = read_pem_file(files.certificate, "TLS certificate");
  material.private_key = read_pem_file(files.private_key, "TLS private key");
  if (files.client_ca) material.client_ca = read_pem_file(*files.client_ca, "client CA");
  return material;
}

server_tls make_server_tls(const tls_material& material, const tls_files& files,
                           std::chrono::system_clock::time_point now) {
  const std::string certificate_name = files.certificate.string();
  const std::string key_name = files.private_key.string();

  auto chain = read_certificates(material.certificate, "TLS certificate " + certificate_name);
  if (sk_X509_num(chain.get()) == 0) {
    throw tls_error("cannot load TLS certificate " + certificate_name + ": no PEM certificate in it");
  }
  const x509_ptr leaf(sk_X509_shift(chain.get()), &X509_free);

  ERR_clear_error();
  const auto key_bio = memory_bio(material.private_key);
  const pkey_ptr key(PEM_read_bio_PrivateKey(key_bio.get(), nullptr, no_passphrase, nullptr), &EVP_PKEY_free);
  if (!key) {
    throw tls_error("cannot load TLS private key " + key_name + ": " +
                    openssl_error_text("no PEM private key in it"));
  }
  if (X509_check_private_key(leaf.get(), key.get()) != 1) {
    ERR_clear_error();
    throw tls_error("TLS private key " + key_name + " does not match certificate " + certificate_name);
  }

  server_tls built{std::make_shared<ssl::context>(ssl::context::tls_server), describe(leaf.get())};
  if (now >= built.certificate.not_after) {
    throw tls_error("TLS certificate " + certificate_name + " expired at " + format_utc(built.certificate.not_after));
  }

  apply_policy(*built.context);
  SSL_CTX* native = built.context->native_handle();
  // Takes its own references to all three; the chain follows the leaf in the handshake.
  if (SSL_CTX_use_cert_and_key(native, leaf.get(), key.get(), chain.get(), 1) != 1) {
    throw tls_error("cannot use TLS certificate " + certificate_name + " with key " + key_name + ": " +
                    openssl_error_text());
  }
  if (files.client_ca) use_client_ca(native, material.client_ca.value_or(""), *files.client_ca);
  return built;
}

std::string format_utc(std::chrono::system_clock::time_point time) {
  const std::time_t seconds = std::chrono::system_clock::to_time_t(time);
  std::tm parts{};
  gmtime_r(&seconds, &parts);
  std::array<char, 32> text{};
  const auto n = std::strftime(text.data(), text.size(), "%Y-%m-%dT%H:%M:%SZ", &parts);
  return std::string(text.data(), n);
}

}  // namespace lug::transport
