// Who wants to know about every read of the setting (metrics), without the reader knowing
// who that is: the same shape as hold_observer and review_observer.
#pragma once

namespace lug::guard {

struct setting_read;

class read_observer {
 public:
  virtual ~read_observer() = default;
  // Once per finished read, fresh or cached, whatever its outcome.
  virtual void read_finished(const setting_read& read) = 0;
};

// An observer that ignores everything, for callers that do not measure.
read_observer& ignore_reads();

}  // namespace lug::guard
