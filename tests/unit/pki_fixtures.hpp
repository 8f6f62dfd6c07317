// Certificates for TLS tests, made in code: a key and a certificate with the validity
// each test needs (already expired, valid for a day, ...), as PEM text, and a temporary
// directory to write them to, laid out like a Kubernetes Secret volume when asked.
#pragma once

#include <chrono>
#include <filesystem>
#include <string>

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

// A fresh directory under the system temp dir, removed with everything in it.
class temp_dir {
 public:
  temp_dir();
  ~temp_dir();
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

void write_file(const std::filesystem::path& path, const std::string& text);

// A Secret volume as kubelet lays it out: tls.crt -> ..data/tls.crt, ..data -> a hidden
// timestamped directory holding the files. publish() writes a new directory and swaps
// ..data to it with one rename, then deletes the old directory, as kubelet does.
class secret_volume {
 public:
  explicit secret_volume(std::filesystem::path root);
  void publish(const pem_pair& pair);

  std::filesystem::path certificate() const { return root_ / "tls.crt"; }
  std::filesystem::path private_key() const { return root_ / "tls.key"; }

 private:
  std::filesystem::path root_;
  int generation_ = 0;
};

}  // namespace lug::test
