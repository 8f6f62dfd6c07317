// Reading a Longhorn Setting (deleting-confirmation-flag) from the API server, two ways.
//
// read_mode::fresh is `GET /apis/longhorn.io/<v>/namespaces/<ns>/settings/<name>` with no
// resourceVersion parameter at all: the API server answers from etcd with a quorum read,
// so the answer is at least as new as any write acknowledged before the read started.
// read_mode::cached adds `?resourceVersion=0`: the API server may answer from its watch
// cache, which can lag behind etcd; that is what longhorn-manager's informer sees, so the
// init container waits for both.
//
// A read never throws; every result is a setting_read, whose outcome says what happened
// and whose describe() is a one-line account fit for a deny message or a log. The mapping
// from HTTP response to outcome is the pure function interpret_response(), testable
// without sockets.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include <boost/asio/awaitable.hpp>

#include "guard/flag_value.hpp"
#include "guard/read_observer.hpp"
#include "guard/setting_ref.hpp"
#include "kube/api_client.hpp"
#include "kube/api_result.hpp"

namespace lug::guard {

enum class read_mode { fresh, cached };

enum class read_outcome {
  ok,                // the Setting was read
  setting_missing,   // 404 naming the object: the API exists, this Setting does not
  api_missing,       // 404 "the server could not find the requested resource": no such CRD/version
  unauthorized,      // 401, or our own credentials could not be read
  forbidden,         // 403: RBAC does not let us get settings
  throttled,         // 429: API priority and fairness turned us away
  server_error,      // 5xx
  timeout,           // no complete answer by the deadline
  unreachable,       // could not connect, or the connection was lost
  tls_failure,       // the handshake failed, e.g. a server certificate we do not trust
  invalid_response,  // an answer we cannot use: not a Setting, malformed, unexpected status
  cancelled,         // the read was cancelled (shutdown)
};

struct setting_read {
  setting_ref setting;
  read_mode mode = read_mode::fresh;
  read_outcome outcome = read_outcome::invalid_response;
  std::string value;             // the Setting's top-level `value`; "" when it has none (outcome ok)
  std::string resource_version;  // metadata.resourceVersion (outcome ok)
  unsigned http_status = 0;      // 0 when no response arrived
  std::string message;           // what the API server said (Status message) or the transport error; "" when ok
  std::chrono::steady_clock::time_point started;
  std::chrono::steady_clock::time_point finished;

  bool ok() const { return outcome == read_outcome::ok; }
  // The API server answered the question: the Setting's value, or that it does not exist.
  bool answered() const { return outcome == read_outcome::ok || outcome == read_outcome::setting_missing; }
  // The value as Longhorn reads it. A missing Setting reads as Longhorn's default, false;
  // an unanswered read is invalid, never true.
  flag_value flag() const;
  bool is_true() const { return flag() == flag_value::true_value; }
};

// One line for a person: `value "false" at resourceVersion 98765`, `forbidden (HTTP 403):
// settings.longhorn.io "deleting-confirmation-flag" is forbidden: User ...`.
std::string describe(const setting_read& read);
// Only what an answered read returned, `value "yes" at resourceVersion 98765` or `an empty
// value at ...`, for sentences that say themselves how Longhorn reads it.
std::string describe_value(const setting_read& read);

std::string_view to_string(read_outcome outcome);
std::string_view to_string(read_mode mode);

// The request path for a read, without any cluster path prefix.
std::string setting_path(const setting_ref& setting, read_mode mode);

// The outcome, value, resourceVersion, status and message an HTTP response means; a 2xx
// that is not the Setting `wanted` (kind, namespace, name) is an invalid_response.
// (setting, mode and times are left for the caller to fill in.)
setting_read interpret_response(const setting_ref& wanted, unsigned http_status, std::string_view body);
// The same for a request that got no response.
setting_read interpret_failure(const kube::transport_failure& failure);

class setting_reader {
 public:
  // `client` and `observer` must outlive the reader; `observer` hears of every read.
  setting_reader(kube::api_client& client, setting_ref setting, read_observer& observer = ignore_reads());

  boost::asio::awaitable<setting_read> read(read_mode mode, std::chrono::steady_clock::time_point deadline);

  const setting_ref& setting() const { return setting_; }
  const kube::api_client& client() const { return client_; }

 private:
  kube::api_client& client_;
  setting_ref setting_;
  read_observer& observer_;
};

}  // namespace lug::guard
