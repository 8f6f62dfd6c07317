#include "guard/setting_reader.hpp"

#include <nlohmann/json.hpp>

#include "guard/quoted_value.hpp"
#include "kube/api_status.hpp"
#include "support/log.hpp"
#include "support/result.hpp"

namespace lug::guard {
namespace {

setting_read with_outcome(read_outcome outcome, unsigned http_status, std::string message) {
  setting_read read;
  read.outcome = outcome;
  read.http_status = http_status;
  read.message = std::move(message);
  return read;
}

std::string string_field(const nlohmann::json& object, const char* name) {
  const auto field = object.find(name);
  return field != object.end() && field->is_string() ? field->get<std::string>() : std::string();
}

// A 200 that is not the object asked for (a proxy's answer, a misrouted request, another
// Setting) must never count as its value: it could say "true" for a setting nobody set.
result<void, std::string> check_identity(const nlohmann::json& object, const setting_ref& wanted) {
  const auto kind = object.find("kind");
  if (kind == object.end() || *kind != "Setting") {
    const std::string returned = kind == object.end()    ? "no kind"
                                 : kind->is_string() ? "kind " + quote_value(kind->get<std::string>())
                                                     : "a kind that is " + std::string(kind->type_name());
    return unexpected("expected a Setting, the API server returned " + returned);
  }
  const auto metadata = object.find("metadata");
  if (metadata == object.end() || !metadata->is_object()) return unexpected("the Setting has no metadata");
  const auto name = string_field(*metadata, "name");
  const auto namespace_name = string_field(*metadata, "namespace");
  if (name != wanted.name || namespace_name != wanted.namespace_name) {
    return unexpected("asked for the Setting " + wanted.namespace_name + "/" + wanted.name +
                      ", the API server returned " + quote_value(namespace_name) + "/" + quote_value(name));
  }
  return {};
}

setting_read interpret_setting(const setting_ref& wanted, unsigned http_status, std::string_view body) {
  const auto object = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (!object.is_object()) {
    return with_outcome(read_outcome::invalid_response, http_status, "the response body is not a JSON object");
  }
  if (auto identity = check_identity(object, wanted); !identity) {
    return with_outcome(read_outcome::invalid_response, http_status, std::move(identity).error());
  }
  setting_read read = with_outcome(read_outcome::ok, http_status, {});
  // Longhorn keeps the value at the top level of the object, not under spec.
  if (const auto value = object.find("value"); value != object.end() && !value->is_null()) {
    if (!value->is_string()) {
      return with_outcome(read_outcome::invalid_response, http_status,
                          "the Setting's value is " + std::string(value->type_name()) + ", not a string");
    }
    read.value = value->get<std::string>();
  }
  read.resource_version = string_field(object.at("metadata"), "resourceVersion");
  return read;
}

// The words that open describe() for an unanswered read.
std::string_view failure_label(read_outcome outcome) {
  switch (outcome) {
    case read_outcome::unauthorized: return "unauthorized";
    case read_outcome::forbidden: return "forbidden";
    case read_outcome::throttled: return "throttled by the API server";
    case read_outcome::server_error: return "API server error";
    case read_outcome::timeout: return "timeout";
    case read_outcome::unreachable: return "API server unreachable";
    case read_outcome::tls_failure: return "TLS failure";
    case read_outcome::invalid_response: return "unexpected response";
    case read_outcome::cancelled: return "cancelled";
    case read_outcome::ok:
    case read_outcome::setting_missing:
    case read_outcome::api_missing: break;
  }
  return "read failed";
}

}  // namespace

flag_value setting_read::flag() const {
  if (outcome == read_outcome::ok) return parse_flag_value(value);
  if (outcome == read_outcome::setting_missing) return flag_value::false_value;
  return flag_value::invalid;
}

std::string_view to_string(read_outcome outcome) {
  switch (outcome) {
    case read_outcome::ok: return "ok";
    case read_outcome::setting_missing: return "setting_missing";
    case read_outcome::api_missing: return "api_missing";
    case read_outcome::unauthorized: return "unauthorized";
    case read_outcome::forbidden: return "forbidden";
    case read_outcome::throttled: return "throttled";
    case read_outcome::server_error: return "server_error";
    case read_outcome::timeout: return "timeout";
    case read_outcome::unreachable: return "unreachable";
    case read_outcome::tls_failure: return "tls_failure";
    case read_outcome::invalid_response: return "invalid_response";
    case read_outcome::cancelled: return "cancelled";
  }
  return "unknown";
}

std::string_view to_string(read_mode mode) { return mode == read_mode::fresh ? "fresh" : "cached"; }

std::string describe_value(const setting_read& read) {
  const std::string at = read.resource_version.empty() ? "" : " at resourceVersion " + read.resource_version;
  if (read.value.empty()) return "an empty value" + at;
  return "value " + quote_value(read.value) + at;
}

std::string describe(const setting_read& read) {
  const std::string status = read.http_status == 0 ? "" : " (HTTP " + std::to_string(read.http_status) + ")";
  switch (read.outcome) {
    case read_outcome::ok:
      if (read.flag() == flag_value::invalid) {
        return describe_value(read) + ", which Longhorn does not read as true or false";
      }
      return describe_value(read);
    case read_outcome::setting_missing:
      return "setting " + read.setting.namespace_name + "/" + read.setting.name +
             " does not exist (Longhorn reads that as false)";
    case read_outcome::api_missing:
      return "the API server does not serve longhorn.io/" + read.setting.api_version +
             " settings (is Longhorn installed?)" + status + ": " + read.message;
    default:
      return std::string(failure_label(read.outcome)) + status + ": " + read.message;
  }
}

std::string setting_path(const setting_ref& setting, read_mode mode) {
  std::string path = "/apis/longhorn.io/" + setting.api_version + "/namespaces/" + setting.namespace_name +
                     "/settings/" + setting.name;
  // resourceVersion=0 lets the API server answer from its watch cache; no parameter at all
  // (not even an empty one) is what makes the fresh read a quorum read.
  if (mode == read_mode::cached) path += "?resourceVersion=0";
  return path;
}

setting_read interpret_response(const setting_ref& wanted, unsigned http_status, std::string_view body) {
  if (http_status >= 200 && http_status < 300) return interpret_setting(wanted, http_status, body);

  auto status = kube::parse_api_status(http_status, body);
  const auto outcome = [&] {
    switch (http_status) {
      case 401: return read_outcome::unauthorized;
      case 403: return read_outcome::forbidden;
      case 404:
        // A missing object's Status names it; a path nobody serves has empty details.
        return status.details_name.empty() ? read_outcome::api_missing : read_outcome::setting_missing;
      case 429: return read_outcome::throttled;
      default: return http_status >= 500 && http_status < 600 ? read_outcome::server_error
                                                                 : read_outcome::invalid_response;
    }
  }();
  return with_outcome(outcome, http_status, std::move(status.message));
}

setting_read interpret_failure(const kube::transport_failure& failure) {
  const auto outcome = [&] {
    switch (failure.kind) {
      case kube::failure_kind::timeout: return read_outcome::timeout;
      case kube::failure_kind::unreachable: return read_outcome::unreachable;
      case kube::failure_kind::tls: return read_outcome::tls_failure;
      case kube::failure_kind::protocol: return read_outcome::invalid_response;
      case kube::failure_kind::credentials: return read_outcome::unauthorized;
      case kube::failure_kind::cancelled: return read_outcome::cancelled;
    }
    return read_outcome::invalid_response;
  }();
  return with_outcome(outcome, 0, failure.message);
}

read_observer& ignore_reads() {
  class ignoring_observer final : public read_observer {
   public:
    void read_finished(const setting_read&) override {}
  };
  static ignoring_observer observer;
  return observer;
}

setting_reader::setting_reader(kube::api_client& client, setting_ref setting, read_observer& observer)
    : client_(client), setting_(std::move(setting)), observer_(observer) {}

boost::asio::awaitable<setting_read> setting_reader::read(read_mode mode,
                                                          std::chrono::steady_clock::time_point deadline) {
  const auto started = std::chrono::steady_clock::now();
  const auto answer = co_await client_.get(setting_path(setting_, mode), deadline);
  setting_read read = answer ? interpret_response(setting_, answer->status, answer->body)
                             : interpret_failure(answer.error());
  read.setting = setting_;
  read.mode = mode;
  read.started = started;
  read.finished = std::chrono::steady_clock::now();
  log::debug("setting read", {{"mode", to_string(mode)},
                              {"outcome", to_string(read.outcome)},
                              {"value", cut_value(read.value)},
                              {"resourceVersion", read.resource_version},
                              {"ms", std::chrono::duration_cast<std::chrono::milliseconds>(read.finished - started)
                                         .count()}});
  observer_.read_finished(read);
  co_return read;
}

}  // namespace lug::guard
