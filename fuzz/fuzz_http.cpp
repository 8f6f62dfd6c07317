// Fuzz target: the bytes a client sends on a connection, after TLS. They are read by the
// server's own transport::read_request (pipelined requests in turn until one is not
// keep-alive, one cannot be read, or the bytes run out) and answered by the real routes:
// /validate and /mutate (admission/http_endpoint with the guard's policies), /healthz,
// /metrics. No sockets: a beast::test::stream holds the input.
//
// Invariants, per request that cannot be read: its answer, when it gets one, is a 4xx or
// 5xx metav1.Status that closes the connection. Per request answered:
// - a parsed request stays within the body limit;
// - the route answers (never throws), and the response serializes as HTTP;
// - an unknown path is 404, a known path with another method 405 with an Allow header
//   (HEAD is answered where GET is);
// - on /validate and /mutate: 415 exactly when the Content-Type is not JSON, else 400
//   exactly when the body is no AdmissionReview, else 200 with an AdmissionReview that
//   echoes the request's apiVersion and uid; an out-of-scope pod is allowed; /mutate
//   never denies, and its patch applies to the pod (see invariants.hpp);
// - every error answer is a JSON metav1.Status whose code is the HTTP status.
#include <cstddef>
#include <cstdint>
#include <exception>
#include <sstream>
#include <string>
#include <string_view>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/_experimental/test/stream.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/write.hpp>

#include "admission/http_endpoint.hpp"
#include "admission/review.hpp"
#include "guard/mutator.hpp"
#include "guard/scope.hpp"
#include "guard/validator.hpp"
#include "invariants.hpp"
#include "metrics/metrics_endpoint.hpp"
#include "metrics/webhook_metrics.hpp"
#include "quiet_logs.hpp"
#include "scripted_validator.hpp"
#include "transport/limits.hpp"
#include "transport/request_reader.hpp"
#include "transport/router.hpp"

namespace {

using namespace lug;
using fuzz::require;
namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = transport::http;
using clock_type = std::chrono::steady_clock;

// Pipelined requests answered per input; more only repeat the same paths.
constexpr int max_requests_per_input = 8;

// The fresh reads of /validate alternate between true (allowed) and a 403 (denied at
// once), counted from the start of each input so that a crash replays exactly.
std::uint64_t reads_this_input = 0;

net::awaitable<guard::setting_read> alternating_read(clock_type::time_point) {
  co_return reads_this_input++ % 2 == 0 ? test::value_read("true") : test::forbidden_read();
}

struct webhook {
  net::io_context io;
  metrics::webhook_metrics measured{"fuzz"};
  guard::setting_reads reads{io.get_executor(), alternating_read,
                             std::chrono::duration_cast<clock_type::duration>(guard::max_read_time)};
  guard::validator validating{guard::uninstall_job{}, guard::setting_ref{}, test::immediate_policy(), reads, measured};
  guard::mutator mutating{guard::uninstall_job{}, guard::init_container_spec{.image = "example.org/guard:fuzz"}};
  transport::router routes;

  webhook() {
    routes.add(http::verb::post, "/validate",
               admission::make_review_endpoint("validate", validating, measured.endpoint("validate")));
    routes.add(http::verb::post, "/mutate", admission::make_review_endpoint("mutate", mutating, measured.endpoint("mutate")));
    routes.add(http::verb::get, "/healthz",
               [](const transport::request&, const transport::request_context&) -> net::awaitable<transport::response> {
                 transport::response res{http::status::ok, 11};
                 res.body() = "ok\n";
                 co_return res;
               });
    routes.add(http::verb::get, "/metrics", metrics::make_metrics_endpoint(measured));
  }
};

webhook& the_webhook() {
  static webhook instance;
  return instance;
}

void check_status_body(const transport::response& res) {
  const auto status = nlohmann::json::parse(res.body(), nullptr, /*allow_exceptions=*/false);
  require(status.is_object() && status.value("kind", "") == "Status", "an error answer is a metav1.Status", res.body());
  require(status.value("code", 0u) == res.result_int(), "the Status code is the HTTP status", res.body());
}

void check_admission_answer(std::string_view endpoint, const transport::request& req, const transport::response& res) {
  auto decoded = admission::decode_review(req.body());
  if (!admission::is_json_content_type(req[http::field::content_type])) {
    require(res.result() == http::status::unsupported_media_type, "a body that is not JSON by its type is refused with 415",
            res.body());
    return;
  }
  if (!decoded) {
    require(res.result() == http::status::bad_request, "a body that is no AdmissionReview is refused with 400",
            res.body());
    return;
  }
  require(res.result() == http::status::ok, "an AdmissionReview is answered with 200", res.body());
  auto& request = *decoded;
  fuzz::check_decoded_object(req.body(), request);
  const auto response = fuzz::check_answer(res.body(), request);
  const bool allowed = response.at("allowed").get<bool>();
  if (!guard::classify(request, guard::uninstall_job{}).in_scope) {
    require(allowed && !response.contains("patch"), "an out-of-scope pod is allowed unchanged", res.body());
  }
  if (endpoint == "/mutate") {
    require(allowed, "/mutate never denies", res.body());
    if (response.contains("patch")) {
      fuzz::check_patch(request.object, fuzz::base64_decode(response.at("patch").get<std::string>()));
    }
  } else {
    require(!response.contains("patch"), "/validate never patches", res.body());
  }
}

void check_answer(const transport::request& req, transport::response& res) {
  res.version(req.version());
  res.keep_alive(req.keep_alive());
  res.prepare_payload();
  try {
    std::ostringstream wire;
    wire << res;
  } catch (const std::exception& e) {
    fuzz::fail("the response serializes as HTTP", e.what());
  }

  const auto path = transport::target_path(req.target());
  const bool admission_path = path == "/validate" || path == "/mutate";
  const bool known = admission_path || path == "/healthz" || path == "/metrics";
  if (!known) {
    require(res.result() == http::status::not_found, "an unknown path is 404", res.body());
  } else if (const auto allowed = admission_path ? http::verb::post : http::verb::get;
             req.method() != allowed && !(allowed == http::verb::get && req.method() == http::verb::head)) {
    require(res.result() == http::status::method_not_allowed, "a known path with another method is 405", res.body());
    require(!res[http::field::allow].empty(), "a 405 says which method is allowed");
  } else if (admission_path) {
    check_admission_answer(path, req, res);
  } else {
    require(res.result() == http::status::ok, "a probe answers 200", res.body());
  }
  if (res.result_int() >= 400) check_status_body(res);
}

void check_refusal(const transport::read_failure& failure) {
  if (!failure.answer) return;  // the bytes ran out: nobody to answer
  auto res = *failure.answer;
  require(res.result_int() >= 400, "a request that cannot be read is refused", res.body());
  check_status_body(res);
  res.keep_alive(false);
  try {
    std::ostringstream wire;
    wire << res;
  } catch (const std::exception& e) {
    fuzz::fail("the refusal serializes as HTTP", e.what());
  }
}

net::awaitable<void> serve(beast::test::stream& stream, const transport::router& routes) {
  beast::flat_buffer buffer(transport::read_buffer_bytes);
  for (int served = 0; served < max_requests_per_input; ++served) {
    auto read = co_await transport::read_request(stream, buffer);
    if (!read) {
      check_refusal(read.error());
      co_return;
    }
    auto& req = *read;
    require(req.body().size() <= transport::limits::max_body_bytes, "a parsed body is within the body limit");
    const transport::request_context ctx{"192.0.2.1:4242", clock_type::now()};
    auto res = co_await routes.dispatch(req, ctx);
    check_answer(req, res);
    if (!req.keep_alive()) co_return;
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  fuzz::quiet_logs(log::format::json);
  the_webhook();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto& hook = the_webhook();
  reads_this_input = 0;
  beast::test::stream stream(hook.io, std::string_view(reinterpret_cast<const char*>(data), size));
  stream.close_remote();  // the client sent these bytes and nothing more

  std::exception_ptr failure;
  bool finished = false;
  net::co_spawn(hook.io, serve(stream, hook.routes), [&](std::exception_ptr error) {
    failure = error;
    finished = true;
  });
  hook.io.restart();
  hook.io.run();
  if (failure) {
    try {
      std::rethrow_exception(failure);
    } catch (const std::exception& e) {
      fuzz::fail("a route answers without throwing", e.what());
    }
  }
  require(finished, "every request is answered once the input is read");
  require(hook.validating.held() == 0, "no hold outlives its request");
  return 0;
}
