// Request framing by Transfer-Encoding (RFC 9112 §6.1, §6.3): what read_request accepts,
// and what it refuses before reading a body, so that a body is never taken for the next
// request on the connection.
#include <doctest/doctest.h>

#include <string>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/beast/_experimental/test/stream.hpp>

#include "transport/request_reader.hpp"
#include "transport/transfer_coding.hpp"

namespace {

namespace http = lug::transport::http;
using lug::transport::framing_error;

boost::system::error_code framing_of(const std::string& transfer_encoding) {
  http::request_header<> header;
  header.set(http::field::transfer_encoding, transfer_encoding);
  return lug::transport::check_transfer_encoding(header);
}

// Reads one request from `bytes` as the server does, then what is left as a second one.
struct two_reads {
  lug::transport::read_result first;
  lug::transport::read_result second;
};

two_reads read_twice(const std::string& bytes) {
  boost::asio::io_context io;
  boost::beast::test::stream stream(io, bytes);
  stream.close_remote();
  two_reads result;
  boost::asio::co_spawn(
      io,
      [&]() -> boost::asio::awaitable<void> {
        boost::beast::flat_buffer buffer(lug::transport::read_buffer_bytes);
        result.first = co_await lug::transport::read_request(stream, buffer);
        result.second = co_await lug::transport::read_request(stream, buffer);
      },
      boost::asio::detached);
  io.run();
  return result;
}

unsigned answer_status(const lug::transport::read_result& read) {
  return !read && read.error().answer ? read.error().answer->result_int() : 0;
}

}  // namespace

TEST_SUITE("request framing") {
  TEST_CASE("no Transfer-Encoding, or exactly chunked, is a framing we read") {
    CHECK_FALSE(lug::transport::check_transfer_encoding(http::request_header<>{}));
    CHECK_FALSE(framing_of("chunked"));
    CHECK_FALSE(framing_of("Chunked"));
    CHECK_FALSE(framing_of(" chunked ,"));
  }

  TEST_CASE("a final coding that is not chunked leaves the body's length unknown: 400") {
    for (const char* value : {"xchunked", "identity", "chunked, xchunked", "gzip", "", ","}) {
      CAPTURE(value);
      CHECK(framing_of(value) == framing_error::final_coding_not_chunked);
    }
  }

  TEST_CASE("chunked applied twice is refused") {
    CHECK(framing_of("chunked, chunked") == framing_error::chunked_more_than_once);
  }

  TEST_CASE("a coding we do not implement before chunked is 501, not ignored") {
    CHECK(framing_of("gzip, chunked") == framing_error::unimplemented_coding);
    CHECK(framing_of("gzip;q=1 ,chunked") == framing_error::unimplemented_coding);
  }

  TEST_CASE("Transfer-Encoding fields are read together, in order") {
    http::request_header<> header;
    header.insert(http::field::transfer_encoding, "gzip");
    header.insert(http::field::transfer_encoding, "chunked");
    CHECK(lug::transport::check_transfer_encoding(header) == framing_error::unimplemented_coding);
  }

  TEST_CASE("should answer 400 (and so close) instead of taking the body for an empty one") {
    // Before, this was a POST with no body, and the "body" the next request on the connection.
    const std::string smuggled = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
    const auto reads = read_twice("POST /validate HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: xchunked\r\n\r\n" + smuggled);
    CHECK(answer_status(reads.first) == 400);
    const auto& failure = reads.first.error();
    CHECK(failure.answer->body().find("final Transfer-Encoding is not chunked") != std::string::npos);
  }

  TEST_CASE("should answer 501 to gzip before chunked") {
    const auto reads =
        read_twice("POST /validate HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n");
    CHECK(answer_status(reads.first) == 501);
  }

  TEST_CASE("should read a chunked body, then the next request") {
    const auto reads = read_twice(
        "POST /validate HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"
        "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
    REQUIRE(reads.first.has_value());
    CHECK(reads.first->body() == "hello");
    REQUIRE(reads.second.has_value());
    CHECK(reads.second->target() == "/healthz");
  }
}
