#include "transport/certificate_store.hpp"

namespace lug::transport {

certificate_store::certificate_store(tls_files files) : files_(std::move(files)) {
  loaded_ = read_tls_material(files_);
  auto built = make_server_tls(loaded_, files_);
  context_ = std::move(built.context);
  certificate_ = std::move(built.certificate);
}

std::shared_ptr<boost::asio::ssl::context> certificate_store::current() const {
  std::lock_guard lock(mutex_);
  return context_;
}

certificate_info certificate_store::certificate() const {
  std::lock_guard lock(mutex_);
  return certificate_;
}

certificate_store::reload_result certificate_store::reload(std::chrono::system_clock::time_point now) {
  std::lock_guard reloading(reload_mutex_);
  tls_material material;
  try {
    material = read_tls_material(files_);
  } catch (const tls_error& e) {
    return refuse({std::nullopt, e.what()});
  }
  if (material == loaded_) {
    refused_.reset();  // back to the pair in use: a later bad pair is news again
    return reload_change::unchanged;
  }
  if (refused_ && refused_->material == material) return reload_change::unchanged;

  try {
    auto built = make_server_tls(material, files_, now);
    {
      std::lock_guard lock(mutex_);
      context_ = std::move(built.context);
      certificate_ = std::move(built.certificate);
    }
    loaded_ = std::move(material);
    refused_.reset();
    return reload_change::reloaded;
  } catch (const tls_error& e) {
    // A writer that replaces the files one after the other (not Kubernetes, whose symlink
    // swap changes both at once) can be caught between them: a new certificate with the
    // old key. If the files moved on while we read, this was not the final pair; the next
    // check sees the finished one.
    try {
      if (read_tls_material(files_) != material) return reload_change::unchanged;
    } catch (const tls_error&) {
      return reload_change::unchanged;
    }
    return refuse({std::move(material), e.what()});
  }
}

certificate_store::reload_result certificate_store::refuse(attempt failed) {
  if (refused_ == failed) return reload_change::unchanged;
  refused_ = std::move(failed);
  return unexpected(refused_->error);
}

result<void, std::string> certificate_store::usable_at(std::chrono::system_clock::time_point now) const {
  const auto info = certificate();
  if (now >= info.not_after) {
    return unexpected("the serving certificate (serial " + info.serial + ") expired at " + format_utc(info.not_after) +
                      "; no valid replacement has appeared in " + files_.certificate.string());
  }
  if (now < info.not_before) {
    return unexpected("the serving certificate (serial " + info.serial + ") is not valid before " +
                      format_utc(info.not_before));
  }
  return {};
}

}  // namespace lug::transport
