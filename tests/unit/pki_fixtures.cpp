#include "pki_fixtures.hpp"

#include <atomic>
#include <memory>
#include <stdexcept>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

namespace lug::test {
namespace {

std::string drain(BIO* bio) {
  std::string text(BIO_ctrl_pending(bio), '\0');
  const int n = BIO_read(bio, text.data(), static_cast<int>(text.size()));
  text.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
  return text;
}

void check(bool ok, const char* what) {
  if (!ok) throw std::runtime_error(std::string("test PKI: ") + what + " failed");
}

}  // namespace

pem_pair make_pair(const std::string& common_name, std::chrono::seconds valid_from, std::chrono::seconds valid_until) {
  static std::atomic<long> next_serial{0x1000};
  const std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"),
                                                               &EVP_PKEY_free);
  check(key != nullptr, "key generation");
  const std::unique_ptr<X509, decltype(&X509_free)> cert(X509_new(), &X509_free);
  check(cert != nullptr, "X509_new");
  check(X509_set_version(cert.get(), X509_VERSION_3) == 1, "set version");
  check(ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), ++next_serial) == 1, "set serial");
  check(X509_gmtime_adj(X509_getm_notBefore(cert.get()), static_cast<long>(valid_from.count())) != nullptr,
        "set notBefore");
  check(X509_gmtime_adj(X509_getm_notAfter(cert.get()), static_cast<long>(valid_until.count())) != nullptr,
        "set notAfter");
  X509_NAME* name = X509_get_subject_name(cert.get());
  check(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(common_name.c_str()),
                                   -1, -1, 0) == 1,
        "set subject");
  check(X509_set_issuer_name(cert.get(), name) == 1, "set issuer");
  check(X509_set_pubkey(cert.get(), key.get()) == 1, "set key");
  check(X509_sign(cert.get(), key.get(), EVP_sha256()) > 0, "sign");

  const std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), &BIO_free);
  pem_pair pair;
  check(PEM_write_bio_X509(bio.get(), cert.get()) == 1, "write certificate");
  pair.certificate = drain(bio.get());
  check(PEM_write_bio_PrivateKey(bio.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) == 1, "write key");
  pair.private_key = drain(bio.get());
  return pair;
}

std::string serial_of(const std::string& certificate_pem) {
  const std::unique_ptr<BIO, decltype(&BIO_free)> bio(
      BIO_new_mem_buf(certificate_pem.data(), static_cast<int>(certificate_pem.size())), &BIO_free);
  const std::unique_ptr<X509, decltype(&X509_free)> cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr),
                                                         &X509_free);
  check(cert != nullptr, "read certificate");
  const std::unique_ptr<BIGNUM, decltype(&BN_free)> number(ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert.get()), nullptr),
                                                           &BN_free);
  char* hex = BN_bn2hex(number.get());
  std::string text(hex);
  OPENSSL_free(hex);
  return text;
}

}  // namespace lug::test
