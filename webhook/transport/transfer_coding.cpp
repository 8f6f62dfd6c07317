#include "transport/transfer_coding.hpp"

#include <string>
#include <string_view>
#include <vector>

#include <boost/beast/core/string.hpp>

namespace lug::transport {
namespace {

// Boost's error_category has a protected non-virtual destructor by design (categories are
// never deleted through it), which -Wnon-virtual-dtor cannot tell.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wnon-virtual-dtor"
class framing_category_impl final : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "http framing"; }
  std::string message(int ev) const override {
    switch (static_cast<framing_error>(ev)) {
      case framing_error::final_coding_not_chunked:
        return "the final Transfer-Encoding is not chunked, so the body's length is unknown";
      case framing_error::chunked_more_than_once: return "Transfer-Encoding applies chunked more than once";
      case framing_error::unimplemented_coding:
        return "Transfer-Encoding names a coding this server does not implement (only chunked is)";
    }
    return "unknown framing error";
  }
};
#pragma GCC diagnostic pop

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

// The coding names of every Transfer-Encoding field, in order, without parameters. Empty
// list elements are allowed by the list syntax (RFC 9110 §5.6.1) and skipped.
std::vector<std::string_view> coding_names(const http::request_header<>& header) {
  std::vector<std::string_view> names;
  const auto [first, last] = header.equal_range(http::field::transfer_encoding);
  for (auto field = first; field != last; ++field) {
    std::string_view list = field->value();
    for (;;) {
      const auto comma = list.find(',');
      const auto element = list.substr(0, comma);
      const auto name = trim(element.substr(0, element.find(';')));
      if (!name.empty()) names.push_back(name);
      if (comma == std::string_view::npos) break;
      list.remove_prefix(comma + 1);
    }
  }
  return names;
}

}  // namespace

const boost::system::error_category& framing_category() {
  static const framing_category_impl category;
  return category;
}

boost::system::error_code make_error_code(framing_error e) { return {static_cast<int>(e), framing_category()}; }

boost::system::error_code check_transfer_encoding(const http::request_header<>& header) {
  if (header.find(http::field::transfer_encoding) == header.end()) return {};
  const auto names = coding_names(header);
  if (names.empty() || !boost::beast::iequals(names.back(), "chunked")) return framing_error::final_coding_not_chunked;
  for (std::size_t i = 0; i + 1 < names.size(); ++i) {
    if (boost::beast::iequals(names[i], "chunked")) return framing_error::chunked_more_than_once;
  }
  if (names.size() > 1) return framing_error::unimplemented_coding;
  return {};
}

}  // namespace lug::transport
