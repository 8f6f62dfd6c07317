// The validator's reads: fresh (quorum) reads of the setting, shared among the requests
// that wait for one (read_coalescer), each bounded by max_read_time. The reader's
// read_observer hears of every one.
#pragma once

#include <boost/asio/any_io_executor.hpp>

#include "guard/read_coalescer.hpp"
#include "guard/setting_reader.hpp"

namespace lug::guard {

using setting_reads = read_coalescer<setting_read>;

// `reader` must outlive the result. Returned by value: guaranteed copy elision, so the
// coalescer (which is not meant to move once waiters refer to it) is built in place.
setting_reads make_fresh_reads(boost::asio::any_io_executor executor, setting_reader& reader);

}  // namespace lug::guard
