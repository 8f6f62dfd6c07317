#include "transport/certificate_watcher.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>

#include "support/log.hpp"

namespace lug::transport {

certificate_watcher::certificate_watcher(boost::asio::any_io_executor executor, certificate_store& store,
                                         certificate_observer& observer, std::chrono::steady_clock::duration interval)
    : store_(store), observer_(observer), interval_(interval), timer_(boost::asio::make_strand(std::move(executor))) {}

void certificate_watcher::start() {
  observer_.certificate_served(store_.certificate(), false);
  boost::asio::post(timer_.get_executor(), [this] { schedule(); });
}

void certificate_watcher::stop() {
  boost::asio::post(timer_.get_executor(), [this] {
    stopped_ = true;
    timer_.cancel();
  });
}

void certificate_watcher::schedule() {
  timer_.expires_after(interval_);
  timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec || stopped_) return;
    check();
    schedule();
  });
}

void certificate_watcher::check() {
  const auto reloaded = store_.reload();
  if (!reloaded) {
    const auto kept = store_.certificate();
    log::warn("serving certificate not reloaded; still serving the previous one",
              {{"error", reloaded.error()}, {"serial", kept.serial}, {"not_after", format_utc(kept.not_after)}});
    observer_.certificate_refused(reloaded.error());
    return;
  }
  if (*reloaded == certificate_store::reload_change::unchanged) return;
  const auto served = store_.certificate();
  log::info("serving certificate reloaded", {{"certificate", store_.files().certificate.string()},
                                             {"subject", served.subject},
                                             {"serial", served.serial},
                                             {"sha256", served.sha256_fingerprint},
                                             {"not_after", format_utc(served.not_after)}});
  observer_.certificate_served(served, true);
}

}  // namespace lug::transport
