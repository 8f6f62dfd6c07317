// Fuzz target: a kubeconfig file (--kubeconfig), loaded by kube::load_kubeconfig.
// The input is written to a file in a private temporary directory, because the loader
// reads files (and resolves the paths inside the kubeconfig against its directory).
//
// Invariants:
// - the loader returns a complete config or throws config_error, never anything else
//   (a YAML error, an exception from a wrong-typed field, a crash);
// - a returned config has a host, a port, a CA source and a source for logs, and a client
//   certificate only together with its key.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <fstream>
#include <string>

#include "invariants.hpp"
#include "kube/cluster_config.hpp"
#include "kube/kubeconfig.hpp"

namespace {

using namespace lug;
using fuzz::require;

std::filesystem::path work_dir;

void remove_work_dir() {
  std::error_code ignored;
  std::filesystem::remove_all(work_dir, ignored);
}

void check_config(const kube::cluster_config& config) {
  require(!config.host.empty(), "a loaded config has a host");
  require(config.port != 0, "a loaded config has a port");
  require(!config.ca_source.empty(), "a loaded config says where its CA comes from");
  require(!config.source.empty(), "a loaded config says where it came from");
  require(config.client_certificate_pem.empty() == config.client_key_pem.empty(),
          "a client certificate comes with its key");
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  std::string pattern = (std::filesystem::temp_directory_path() / "lug-fuzz-kubeconfig.XXXXXX").string();
  if (mkdtemp(pattern.data()) == nullptr) fuzz::fail("cannot create a temporary directory", pattern);
  work_dir = pattern;
  std::atexit(remove_work_dir);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto file = work_dir / "config";
  {
    std::ofstream out(file, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
    require(out.good(), "the kubeconfig is written");
  }
  for (const std::string_view context : {"", "prod"}) {
    try {
      check_config(kube::load_kubeconfig(file, context));
    } catch (const kube::config_error& e) {
      require(std::string_view(e.what()).size() > 0, "a config error says what is wrong");
    } catch (const std::exception& e) {
      fuzz::fail("load_kubeconfig throws only config_error", e.what());
    }
  }
  return 0;
}
