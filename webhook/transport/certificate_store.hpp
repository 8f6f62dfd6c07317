// The serving certificate in use, and its replacement when the files change.
//
// current() hands each new connection the context to handshake with. The connection keeps
// that shared_ptr for its whole life, so swapping in a new context never disturbs a
// handshake or a keep-alive connection already under way: new connections get the new
// certificate, old ones finish with the old. Thread-safe: current() is called from every
// worker thread while reload() runs wherever the watcher's timer fires.
//
// reload() reads the files and compares their bytes with what is loaded. Nothing happens
// while they are the same. A changed pair that loads is swapped in; one that does not
// (unreadable, not PEM, key not matching, expired) is refused and the current context
// kept: reload() fails with the reason. A refused pair is reported once: until the files
// change again, later calls answer `unchanged`, so a bad Secret does not flood the log
// every few seconds.
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include <boost/asio/ssl/context.hpp>

#include "support/result.hpp"
#include "transport/tls_context.hpp"

namespace lug::transport {

class certificate_store {
 public:
  // Loads the files once; throws tls_error when they cannot be used. Starting without a
  // usable pair is refused on purpose: in Kubernetes a Secret volume's files exist before
  // the container starts, so a missing or broken pair at start-up is a wrong flag or a
  // wrong Secret, best shown as a failed start whose message names the file.
  explicit certificate_store(tls_files files);

  std::shared_ptr<boost::asio::ssl::context> current() const;
  certificate_info certificate() const;
  const tls_files& files() const { return files_; }

  enum class reload_change {
    unchanged,  // same bytes as loaded (or as last refused), or caught mid-write: nothing to do
    reloaded,   // the new pair is in use for new connections
  };
  // What a reload changed, or why the new pair was refused (the current one is kept).
  using reload_result = result<reload_change, std::string>;

  // Loads the files again if their content changed since the last call.
  reload_result reload(std::chrono::system_clock::time_point now = std::chrono::system_clock::now());

  // Whether the certificate in use can serve at `now`; if not, why (expired, or not valid
  // yet: clients refuse it).
  result<void, std::string> usable_at(std::chrono::system_clock::time_point now) const;

 private:
  struct attempt {
    std::optional<tls_material> material;  // nullopt when the files could not be read
    std::string error;
    bool operator==(const attempt&) const = default;
  };
  reload_result refuse(attempt failed);

  const tls_files files_;

  mutable std::mutex mutex_;  // guards the pair below, read by every new connection
  std::shared_ptr<boost::asio::ssl::context> context_;
  certificate_info certificate_;

  std::mutex reload_mutex_;  // one reload at a time; guards the two below
  tls_material loaded_;
  std::optional<attempt> refused_;
};

}  // namespace lug::transport
