#include "guard/fresh_reads.hpp"

#include "guard/hold_policy.hpp"

namespace lug::guard {

setting_reads make_fresh_reads(boost::asio::any_io_executor executor, setting_reader& reader) {
  return setting_reads(
      std::move(executor),
      [&reader](std::chrono::steady_clock::time_point deadline) { return reader.read(read_mode::fresh, deadline); },
      std::chrono::duration_cast<std::chrono::steady_clock::duration>(max_read_time));
}

}  // namespace lug::guard
