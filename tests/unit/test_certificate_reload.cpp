// The serving certificate: loading, refusing bad pairs, and reloading changed files.
#include <doctest/doctest.h>

#include <thread>
#include <vector>

#include <boost/asio/io_context.hpp>

#include "pki_fixtures.hpp"
#include "transport/certificate_store.hpp"
#include "transport/certificate_watcher.hpp"

using namespace std::chrono_literals;
using lug::test::make_pair;
using lug::test::serial_of;
using lug::transport::certificate_store;
using lug::transport::tls_error;
using lug::transport::tls_files;
using reload_change = certificate_store::reload_change;

namespace {

tls_files files_in(const lug::test::temp_dir& dir) { return {dir / "tls.crt", dir / "tls.key", std::nullopt}; }

void write_pair(const lug::test::temp_dir& dir, const lug::test::pem_pair& pair) {
  lug::test::write_file(dir / "tls.crt", pair.certificate);
  lug::test::write_file(dir / "tls.key", pair.private_key);
}

std::string refusal(const tls_files& files) {
  try {
    certificate_store store(files);
  } catch (const tls_error& e) {
    return e.what();
  }
  return "(loaded)";
}

struct recorded_observer final : lug::transport::certificate_observer {
  std::mutex mutex;
  std::vector<std::string> served;  // serials, "reload:" prefixed after a reload
  std::vector<std::string> refused;

  void certificate_served(const lug::transport::certificate_info& certificate, bool reloaded) override {
    std::lock_guard lock(mutex);
    served.push_back((reloaded ? "reload:" : "") + certificate.serial);
  }
  void certificate_refused(std::string_view error) override {
    std::lock_guard lock(mutex);
    refused.emplace_back(error);
  }
  std::size_t served_count() {
    std::lock_guard lock(mutex);
    return served.size();
  }
};

}  // namespace

TEST_SUITE("serving certificate") {
  TEST_CASE("loads a pair and describes its certificate as openssl prints it") {
    lug::test::temp_dir dir;
    const auto pair = make_pair("guard.test");
    write_pair(dir, pair);
    certificate_store store(files_in(dir));
    const auto info = store.certificate();
    CHECK(info.subject == "CN=guard.test");
    CHECK(info.serial == serial_of(pair.certificate));
    CHECK(info.sha256_fingerprint.size() == 32 * 3 - 1);  // 32 bytes as "AB:CD:..."
    CHECK(info.not_after - std::chrono::system_clock::now() > 23h);
    CHECK(store.current() != nullptr);
    CHECK(store.usable_at(std::chrono::system_clock::now()).has_value());
  }

  TEST_CASE("refuses to start on a pair it cannot serve, naming the file") {
    lug::test::temp_dir dir;
    const auto files = files_in(dir);
    SUBCASE("missing certificate") {
      lug::test::write_file(files.private_key, make_pair("a").private_key);
      CHECK(refusal(files).find(files.certificate.string() + " is not a readable file") != std::string::npos);
    }
    SUBCASE("certificate that is not PEM") {
      lug::test::write_file(files.certificate, "not a certificate\n");
      lug::test::write_file(files.private_key, make_pair("a").private_key);
      CHECK(refusal(files).find("cannot load TLS certificate " + files.certificate.string()) != std::string::npos);
    }
    SUBCASE("key that is not PEM") {
      lug::test::write_file(files.certificate, make_pair("a").certificate);
      lug::test::write_file(files.private_key, "not a key\n");
      CHECK(refusal(files).find("cannot load TLS private key " + files.private_key.string()) != std::string::npos);
    }
    SUBCASE("key of another certificate") {
      lug::test::write_file(files.certificate, make_pair("a").certificate);
      lug::test::write_file(files.private_key, make_pair("b").private_key);
      CHECK(refusal(files).find("does not match certificate " + files.certificate.string()) != std::string::npos);
    }
    SUBCASE("expired certificate") {
      write_pair(dir, make_pair("old", -48h, -24h));
      CHECK(refusal(files).find(files.certificate.string() + " expired at ") != std::string::npos);
    }
  }

  TEST_CASE("a reload of unchanged files keeps the same context") {
    lug::test::temp_dir dir;
    write_pair(dir, make_pair("a"));
    certificate_store store(files_in(dir));
    const auto before = store.current();
    CHECK(store.reload() == reload_change::unchanged);
    CHECK(store.current() == before);
  }

  TEST_CASE("a changed pair is swapped in for new connections, and holders of the old context keep it") {
    lug::test::temp_dir dir;
    write_pair(dir, make_pair("a"));
    certificate_store store(files_in(dir));
    const auto old_context = store.current();
    const auto next = make_pair("b");
    write_pair(dir, next);
    CHECK(store.reload() == reload_change::reloaded);
    CHECK(store.certificate().serial == serial_of(next.certificate));
    CHECK(store.current() != old_context);
    CHECK(SSL_CTX_get0_certificate(old_context->native_handle()) != nullptr);  // still whole
    CHECK(store.reload() == reload_change::unchanged);
  }

  TEST_CASE("follows a Secret volume's ..data symlink swap") {
    lug::test::temp_dir dir;
    lug::test::secret_volume volume(dir.path());
    volume.publish(make_pair("first"));
    certificate_store store({volume.certificate(), volume.private_key(), std::nullopt});
    const auto second = make_pair("second");
    volume.publish(second);
    CHECK(store.reload() == reload_change::reloaded);
    CHECK(store.certificate().subject == "CN=second");
    CHECK(store.certificate().serial == serial_of(second.certificate));
  }

  TEST_CASE("a bad new pair is refused once, and the pair in use is kept") {
    lug::test::temp_dir dir;
    const auto good = make_pair("good");
    write_pair(dir, good);
    certificate_store store(files_in(dir));
    const auto in_use = store.current();

    SUBCASE("key not matching") {
      lug::test::write_file(dir / "tls.key", make_pair("other").private_key);
      const auto reloaded = store.reload();
      REQUIRE_FALSE(reloaded.has_value());
      CHECK(reloaded.error().find("does not match") != std::string::npos);
    }
    SUBCASE("certificate not PEM") {
      lug::test::write_file(dir / "tls.crt", "-----BEGIN CERTIFICATE-----\ngarbage\n-----END CERTIFICATE-----\n");
      CHECK_FALSE(store.reload().has_value());  // refused
    }
    SUBCASE("expired") {
      write_pair(dir, make_pair("expired", -48h, -1h));
      const auto reloaded = store.reload();
      REQUIRE_FALSE(reloaded.has_value());
      CHECK(reloaded.error().find("expired at") != std::string::npos);
    }
    SUBCASE("files gone") {
      std::filesystem::remove(dir / "tls.crt");
      const auto reloaded = store.reload();
      REQUIRE_FALSE(reloaded.has_value());
      CHECK(reloaded.error().find("is not a readable file") != std::string::npos);
    }

    CHECK(store.current() == in_use);
    CHECK(store.certificate().serial == serial_of(good.certificate));
    CHECK(store.reload() == reload_change::unchanged);  // reported once, not every check

    const auto fixed = make_pair("fixed");
    write_pair(dir, fixed);
    CHECK(store.reload() == reload_change::reloaded);
    CHECK(store.certificate().serial == serial_of(fixed.certificate));
  }

  TEST_CASE("a bad pair that comes back after the good one is reported again") {
    lug::test::temp_dir dir;
    const auto good = make_pair("good");
    write_pair(dir, good);
    certificate_store store(files_in(dir));
    const auto wrong_key = make_pair("other").private_key;
    lug::test::write_file(dir / "tls.key", wrong_key);
    CHECK_FALSE(store.reload().has_value());  // refused
    lug::test::write_file(dir / "tls.key", good.private_key);
    CHECK(store.reload() == reload_change::unchanged);
    lug::test::write_file(dir / "tls.key", wrong_key);
    CHECK_FALSE(store.reload().has_value());  // refused
  }

  TEST_CASE("is unusable outside its validity period") {
    lug::test::temp_dir dir;
    write_pair(dir, make_pair("a", -1h, 1h));
    certificate_store store(files_in(dir));
    const auto now = std::chrono::system_clock::now();
    CHECK(store.usable_at(now).has_value());
    const auto later = store.usable_at(now + 2h);
    REQUIRE_FALSE(later.has_value());
    CHECK(later.error().find("expired at") != std::string::npos);
    const auto earlier = store.usable_at(now - 2h);
    REQUIRE_FALSE(earlier.has_value());
    CHECK(earlier.error().find("not valid before") != std::string::npos);
  }

  TEST_CASE("current() is safe to call from many threads while reloads swap the pair") {
    lug::test::temp_dir dir;
    write_pair(dir, make_pair("a"));
    certificate_store store(files_in(dir));
    std::atomic<bool> done{false};
    std::atomic<int> null_contexts{0};
    std::vector<std::jthread> readers;
    for (int i = 0; i < 4; ++i) {
      readers.emplace_back([&] {
        while (!done.load()) {
          if (!store.current()) ++null_contexts;
        }
      });
    }
    int reloads = 0;
    for (int i = 0; i < 20; ++i) {
      write_pair(dir, make_pair("n" + std::to_string(i)));
      if (store.reload() == reload_change::reloaded) ++reloads;
    }
    done = true;
    readers.clear();
    CHECK(reloads == 20);
    CHECK(null_contexts.load() == 0);
  }
}

TEST_SUITE("certificate watcher") {
  TEST_CASE("reports the certificate at start, then each reload and each refusal once") {
    lug::test::temp_dir dir;
    lug::test::secret_volume volume(dir.path());
    const auto first = make_pair("first");
    volume.publish(first);
    certificate_store store({volume.certificate(), volume.private_key(), std::nullopt});
    boost::asio::io_context io;
    recorded_observer observer;
    lug::transport::certificate_watcher watcher(io.get_executor(), store, observer, 10ms);
    watcher.start();
    std::jthread runner([&io] {
      auto guard = boost::asio::make_work_guard(io);
      io.run_for(10s);
    });

    auto wait_for_served = [&](std::size_t count) {
      for (int i = 0; i < 500 && observer.served_count() < count; ++i) std::this_thread::sleep_for(10ms);
      return observer.served_count();
    };
    REQUIRE(wait_for_served(1) == 1);
    const auto second = make_pair("second");
    volume.publish(second);
    REQUIRE(wait_for_served(2) == 2);

    lug::test::pem_pair mismatched{make_pair("third").certificate, second.private_key};
    volume.publish(mismatched);
    std::this_thread::sleep_for(200ms);  // twenty checks
    watcher.stop();
    io.stop();
    runner.join();

    std::lock_guard lock(observer.mutex);
    CHECK(observer.served == std::vector<std::string>{serial_of(first.certificate), "reload:" + serial_of(second.certificate)});
    REQUIRE(observer.refused.size() == 1);
    CHECK(observer.refused[0].find("does not match") != std::string::npos);
    CHECK(store.certificate().serial == serial_of(second.certificate));
  }
}
