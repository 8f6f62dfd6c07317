// Maps method + path to a handler. Unknown paths get 404 (listing what this router
// answers), known paths with another method get 405 with an Allow header; HEAD goes
// wherever GET does; the query string never takes part in routing.
#pragma once

#include <string>
#include <vector>

#include "transport/http_types.hpp"

namespace lug::transport {

class router {
 public:
  void add(http::verb method, std::string path, handler h);

  // Finds the handler for a request, or produces the 404/405 answer.
  boost::asio::awaitable<response> dispatch(const request& req, const request_context& ctx) const;

  // "POST /validate, POST /mutate": what this router answers, for messages.
  std::string endpoints() const;

 private:
  struct route {
    http::verb method;
    std::string path;
    handler handle;
  };
  std::vector<route> routes_;  // a handful of routes: a linear scan beats any map
};

}  // namespace lug::transport
