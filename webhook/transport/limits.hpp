// Every bound the HTTP server enforces, with the reason for its number.
#pragma once

#include <chrono>
#include <cstddef>

namespace lug::transport::limits {

// The API server sends at most two objects (object and oldObject) of up to 3 MiB each
// (etcd's default request limit, which kube-apiserver enforces) plus the review's own
// fields; 7 MiB covers both with room to spare. controller-runtime uses the same cap.
inline constexpr std::size_t max_body_bytes = 7 * 1024 * 1024;

// kube-apiserver sends a handful of short headers (~1 KiB). 16 KiB leaves room for
// proxies and long tracing headers while keeping a slow client's buffer small.
inline constexpr std::size_t max_header_bytes = 16 * 1024;

// From a request's first byte until its headers are complete. The API server writes a
// request in one go; a client still trickling headers after 10 s is stalled or
// hostile (slowloris) and holds a connection slot for nothing.
inline constexpr auto header_timeout = std::chrono::seconds{10};

// From the end of the headers until the body is complete: 7 MiB at a slow 1 MiB/s.
inline constexpr auto body_timeout = std::chrono::seconds{10};

// TLS handshake after accept: a few round trips; 10 s tolerates a loaded API server.
inline constexpr auto handshake_timeout = std::chrono::seconds{10};

// Writing a response: admission responses are small; a peer that does not read for
// 10 s is gone.
inline constexpr auto write_timeout = std::chrono::seconds{10};

// How long a keep-alive connection may sit idle between requests. Go's http.Transport,
// which kube-apiserver uses to call webhooks, drops idle connections after 90 s;
// staying open longer than the client means the client, not us, closes first, so we
// never close a connection just as the client reuses it.
inline constexpr auto idle_timeout = std::chrono::seconds{120};

// Closing TLS politely (close_notify) must not delay shutdown.
inline constexpr auto tls_shutdown_timeout = std::chrono::seconds{2};

// Concurrent connections on the webhook port. A few kube-apiserver replicas keep tens of
// keep-alive connections each; 512 leaves an order of magnitude of headroom. With the two
// caps below it stays well below the common 1024 open-file soft limit, leaving
// descriptors for the API client and certificate files. On every listener, connections
// beyond its cap are accepted and closed at once, so the client fails fast instead of
// waiting in the listen backlog.
inline constexpr std::size_t max_connections = 512;

// Concurrent connections on the health-probe port. The kubelet opens one connection per
// probe (it disables keep-alive) and runs two probes, each at most once per period;
// 32 covers a slow answer overlapping the next periods, and an operator's curl, many
// times over. The port is its own so that clients filling the webhook port cannot make
// the kubelet restart the pod.
inline constexpr std::size_t max_probe_connections = 32;

// Concurrent connections on the metrics port. Each Prometheus replica keeps one
// keep-alive connection per target; 16 covers an HA pair, a second monitoring stack and
// an operator's curl with room to spare.
inline constexpr std::size_t max_metrics_connections = 16;

// Pending connections the kernel may queue before accept.
inline constexpr int listen_backlog = 1024;

}  // namespace lug::transport::limits
