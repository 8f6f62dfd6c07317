// Shares reads among waiters while keeping every answer fresh.
//
// A waiter asks for "the result of a read that started after time T, not started before
// time N, and I stop waiting at time D". At most one read is in flight. When it ends,
// every waiter whose T is before the read's start gets its result; the others (those
// that arrived while it was in flight) wait for the next read. The next read starts at
// the earliest N among the waiters, so a new request is served at once, while held
// requests (whose N is their last read's start plus the poll interval) form one cohort:
// hundreds of held requests cost about one read per poll interval.
//
// Freshness is the invariant: a waiter is never given a read that started at or before
// its T. All state lives on one strand; results are delivered on the waiter's own
// executor. close() answers every waiter at once (used on shutdown).
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <exception>
#include <functional>
#include <list>
#include <optional>
#include <string>

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/append.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "support/result.hpp"

namespace lug::guard {

template <typename Result>
class read_coalescer {
 public:
  using clock = std::chrono::steady_clock;
  // Performs one read; must finish by the deadline it is given (or soon after).
  using read_function = std::function<boost::asio::awaitable<Result>(clock::time_point deadline)>;

  struct outcome {
    enum class kind { read, deadline, closed };
    kind what = kind::deadline;
    // When what == read: what the read function returned, or why it threw.
    std::optional<result<Result, std::string>> read;
    clock::time_point read_started{};  // when what == read
    std::uint64_t read_number = 0;     // 1 for the first read ever made
  };

  struct request {
    clock::time_point started_after;  // T: the read must start strictly after this
    clock::time_point not_before;     // N: do not start a read for this waiter before
    clock::time_point deadline;       // D: give up then
  };

  read_coalescer(boost::asio::any_io_executor executor, read_function read, clock::duration read_time_limit)
      : strand_(boost::asio::make_strand(executor)),
        timer_(strand_),
        read_(std::move(read)),
        max_read_time_(read_time_limit) {}

  boost::asio::awaitable<outcome> next_read(request wanted) {
    return boost::asio::async_initiate<decltype(boost::asio::use_awaitable), void(outcome)>(
        [this, wanted](auto handler) {
          boost::asio::dispatch(strand_, [this, wanted, h = handler_type(std::move(handler))]() mutable {
            add_waiter(wanted, std::move(h));
          });
        },
        boost::asio::use_awaitable);
  }

  // Answers every waiter with kind::closed, now and from now on.
  void close() {
    boost::asio::dispatch(strand_, [this] {
      closed_ = true;
      disarm();
      auto waiting = std::move(waiters_);
      waiters_.clear();
      for (auto& w : waiting) complete(w, outcome{outcome::kind::closed, std::nullopt, {}, 0});
    });
  }

  // Reads started so far (for tests and metrics; read on the strand or after it is idle).
  std::uint64_t reads_started() const { return reads_started_; }

 private:
  using handler_type = boost::asio::any_completion_handler<void(outcome)>;

  struct waiter {
    request wanted;
    handler_type handler;
  };

  void add_waiter(request wanted, handler_type handler) {
    waiter w{wanted, std::move(handler)};
    if (closed_) {
      complete(w, outcome{outcome::kind::closed, std::nullopt, {}, 0});
      return;
    }
    waiters_.push_back(std::move(w));
    schedule();
  }

  // Delivered later, from a fresh call stack: a waiter resumed inline could ask for its
  // next read and re-enter schedule() while it is walking the waiter list.
  void complete(waiter& w, outcome result) {
    boost::asio::post(strand_, [h = std::move(w.handler), result = std::move(result)]() mutable {
      // Hands over to the waiter's own executor (its connection's strand).
      boost::asio::dispatch(boost::asio::append(std::move(h), std::move(result)));
    });
  }

  // Expires waiters past their deadline, then starts the next read if one is due, or
  // arms the timer for whichever comes first: the next read or the next deadline.
  void schedule() {
    const auto now = clock::now();
    for (auto it = waiters_.begin(); it != waiters_.end();) {
      if (it->wanted.deadline <= now) {
        complete(*it, outcome{outcome::kind::deadline, std::nullopt, {}, 0});
        it = waiters_.erase(it);
      } else {
        ++it;
      }
    }
    if (waiters_.empty() || closed_) {
      disarm();
      return;
    }
    auto wake = clock::time_point::max();
    for (const auto& w : waiters_) {
      wake = std::min(wake, w.wanted.deadline);
      if (!in_flight_) wake = std::min(wake, w.wanted.not_before);
    }
    if (!in_flight_ && wake <= now) {
      start_read(now);
      schedule();  // re-arm for deadlines while the read runs
      return;
    }
    if (wake != armed_for_) {
      armed_for_ = wake;
      timer_.expires_at(wake);
      timer_.async_wait([this, wake](const boost::system::error_code& ec) {
        if (ec || armed_for_ != wake) return;  // re-armed or cancelled meanwhile
        armed_for_ = clock::time_point{};
        schedule();
      });
    }
  }

  // Forgetting the armed time matters: a later schedule() for that same instant must
  // arm the timer again, or its waiter would never be woken.
  void disarm() {
    armed_for_ = clock::time_point{};
    timer_.cancel();
  }

  void start_read(clock::time_point now) {
    in_flight_ = true;
    const std::uint64_t number = ++reads_started_;
    auto read_deadline = now;
    for (const auto& w : waiters_) read_deadline = std::max(read_deadline, w.wanted.deadline);
    read_deadline = std::min(read_deadline, now + max_read_time_);
    // The start time is taken just before the read is issued: anything that arrived
    // before it may be answered by it.
    const auto started = clock::now();
    boost::asio::co_spawn(strand_, read_(read_deadline),
                          [this, number, started](std::exception_ptr error, Result value) {
                            on_read_done(number, started, std::move(error), std::move(value));
                          });
  }

  void on_read_done(std::uint64_t number, clock::time_point started, std::exception_ptr error, Result value) {
    in_flight_ = false;
    outcome done{outcome::kind::read, std::nullopt, started, number};
    if (error) {
      try {
        std::rethrow_exception(error);
      } catch (const std::exception& e) {
        done.read = unexpected(std::string(e.what()));
      } catch (...) {
        done.read = unexpected(std::string("unknown failure"));
      }
    } else {
      done.read = std::move(value);
    }
    for (auto it = waiters_.begin(); it != waiters_.end();) {
      if (it->wanted.started_after < started) {
        complete(*it, done);
        it = waiters_.erase(it);
      } else {
        ++it;
      }
    }
    schedule();
  }

  boost::asio::strand<boost::asio::any_io_executor> strand_;
  boost::asio::steady_timer timer_;
  read_function read_;
  clock::duration max_read_time_;
  std::list<waiter> waiters_;
  bool in_flight_ = false;
  bool closed_ = false;
  clock::time_point armed_for_{};
  std::uint64_t reads_started_ = 0;
};

}  // namespace lug::guard
