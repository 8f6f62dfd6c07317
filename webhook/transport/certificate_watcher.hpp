// Notices new certificate files and has certificate_store swap them in, without a restart.
//
// Kubernetes updates a Secret volume by writing the new files into a fresh hidden
// directory and atomically re-pointing the volume's `..data` symlink at it; the paths we
// were given (tls.crt -> ..data/tls.crt) then lead to the new files, and the old
// directory is deleted. Polling the files' content catches that, a cert-manager renewal
// and a hand-edited file alike, with no inotify watch to re-arm on a directory that
// disappears with every swap.
//
// Every check and its outcome is told to a certificate_observer (for metrics) and logged:
// a reload at info, a refused pair at warn (once per bad content, see certificate_store).
#pragma once

#include <chrono>
#include <string_view>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>

#include "transport/certificate_store.hpp"

namespace lug::transport {

// kubelet rewrites a Secret volume within about a minute of the Secret changing (its
// sync period plus its cache's TTL). Checking every 2 s keeps our share of that delay
// negligible, and a check costs one read of two small files and a comparison.
inline constexpr std::chrono::steady_clock::duration certificate_check_interval = std::chrono::seconds{2};

class certificate_observer {
 public:
  virtual ~certificate_observer() = default;
  // The certificate now served: at start(), then after every reload.
  virtual void certificate_served(const certificate_info& certificate, bool reloaded) = 0;
  // A changed pair was refused; the previous certificate is still served.
  virtual void certificate_refused(std::string_view error) = 0;
};

class certificate_watcher {
 public:
  // `store` and `observer` must outlive the watcher.
  certificate_watcher(boost::asio::any_io_executor executor, certificate_store& store, certificate_observer& observer,
                      std::chrono::steady_clock::duration interval = certificate_check_interval);

  // Reports the certificate in use, then checks every interval until stop().
  void start();
  // Ends the checks (a check already running finishes first).
  void stop();

  // One check, as the timer runs it.
  void check();

 private:
  void schedule();

  certificate_store& store_;
  certificate_observer& observer_;
  std::chrono::steady_clock::duration interval_;
  boost::asio::steady_timer timer_;  // on its own strand: stop() and the checks never overlap
  bool stopped_ = false;              // touched on the timer's strand only
};

}  // namespace lug::transport
