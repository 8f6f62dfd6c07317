// Reading the small files a cluster config points at (CA bundles, tokens, client
// certificates and keys), with errors that name the file, its role and the OS reason.
// Shared by the config loaders; throws config_error.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

namespace lug::kube {

// The whole file; `what` is its role in messages ("CA bundle", "client key").
std::string read_config_file(const std::filesystem::path& file, std::string_view what);

// Throws unless `pem` holds at least one PEM block whose label ends with `label_suffix`
// ("CERTIFICATE", "PRIVATE KEY"); catches a token or DER file given where PEM belongs,
// while the error can still name where the text came from (`origin`).
void require_pem(std::string_view pem, std::string_view label_suffix, std::string_view what, std::string_view origin);

}  // namespace lug::kube
