#include "support/small_file.hpp"

#include <array>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <system_error>

namespace lug {
namespace {

// Read buffer: the files read here are a few KiB, so one or two reads take them whole.
constexpr std::size_t read_chunk = 16 * 1024;

unexpected<small_file_error> cannot_read(std::string reason) {
  return unexpected(small_file_error{false, 0, std::move(reason)});
}

}  // namespace

result<std::string, small_file_error> read_small_file(const std::filesystem::path& file, std::uintmax_t max_bytes) {
  std::error_code ec;
  const auto status = std::filesystem::status(file, ec);
  if (ec) return cannot_read(ec.message());
  // Regular files only: opening a FIFO would wait for a writer, and a device need not end.
  if (std::filesystem::is_directory(status)) {
    return cannot_read(std::make_error_code(std::errc::is_a_directory).message());
  }
  if (!std::filesystem::is_regular_file(status)) {
    return cannot_read(std::make_error_code(std::errc::not_supported).message());
  }
  std::ifstream in(file, std::ios::binary);
  if (!in) return cannot_read(std::strerror(errno));
  std::string text;
  std::array<char, read_chunk> buffer{};
  // One byte past the bound tells a file of exactly max_bytes from a larger one.
  while (text.size() <= max_bytes && in.read(buffer.data(), buffer.size()).gcount() > 0) {
    text.append(buffer.data(), static_cast<std::size_t>(in.gcount()));
  }
  if (in.bad()) return cannot_read(std::strerror(errno));
  if (text.size() > max_bytes) {
    const auto size = std::filesystem::file_size(file, ec);
    return unexpected(small_file_error{true, !ec && size > max_bytes ? size : max_bytes + 1, {}});
  }
  return text;
}

}  // namespace lug
