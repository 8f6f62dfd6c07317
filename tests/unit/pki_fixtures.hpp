// Certificates for TLS tests, made in code: a key and a certificate with the validity
// each test needs (already expired, valid for a day, ...), as PEM text, and a Kubernetes
// TLS Secret volume to publish them in.
#pragma once

#include <chrono>
#include <filesystem>
#include <string>

#include "test_support.hpp"

namespace lug::test {

struct pem_pair {
  std::string certificate;
  std::string private_key;
};

// A self-signed EC P-256 certificate for CN=`common_name`, valid from now+`valid_from`
// to now+`valid_until`, with a serial unique within the test run.
pem_pair make_pair(const std::string& common_name, std::chrono::seconds valid_from = std::chrono::hours(-1),
                   std::chrono::seconds valid_until = std::chrono::hours(24));

// The serial number of a PEM certificate, as `openssl x509 -serial` prints it.
std::string serial_of(const std::string& certificate_pem);

// A kubernetes.io/tls Secret's volume (tls.crt, tls.key); publish() is the kubelet's
// atomic update of it (see kubelet_volume).
class secret_volume {
 public:
  explicit secret_volume(std::filesystem::path root) : volume_(std::move(root)) {}
  void publish(const pem_pair& pair) {
    volume_.publish({{"tls.crt", pair.certificate}, {"tls.key", pair.private_key}});
  }

  std::filesystem::path certificate() const { return volume_.mounted("tls.crt"); }
  std::filesystem::path private_key() const { return volume_.mounted("tls.key"); }

 private:
  kubelet_volume volume_;
};

}  // namespace lug::test
