// The blocking executor: a fixed set of threads that own mongo_orm's blocking calls (the C
// driver blocks), so that an application built on an event loop hands a call over and goes on.
//
//   async::BlockingExecutor pool({.threads = 8});
//   std::future<int64_t> n = pool.submit([users] { return users.count(); });   // users by value
//
// With Asio, async/asio.hpp turns the same calls into awaitables and completion-token
// operations (co_await, use_future, callbacks).
//
// Lifetime and thread-safety:
// - A call runs on one of the executor's threads. Give it what it needs by value: handles
//   (Client, Database, Collection, TypedCollection, Runner) are cheap to copy and safe to use
//   from many threads at once; a Tracked object or a cursor is not, so move it in and get it back
//   in the result.
// - Lifecycle hooks and after_load run on the executor's thread, inside the call.
// - The executor must outlive the calls submitted to it. Destroying it stops taking calls,
//   waits for the running ones, and completes every queued one with CallAbandoned.
// - submit and cancel may be called from any thread.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <exception>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include "mongo_orm/error.hpp"

namespace mongo_orm::async {

// A call that never ran: cancelled before a thread took it, refused because the queue was
// full, or still queued when the executor was destroyed.
class CallAbandoned : public Error {
 public:
  using Error::Error;
};

namespace detail {
// One submitted call. Exactly one of run() and abandon() delivers its outcome, to whoever waits
// for it: the first of a worker (claim) and a canceller (cancel) to change the state decides.
class Job {
 public:
  virtual ~Job() = default;
  // Runs the call and delivers its result or exception. Called once, after claim() succeeded.
  virtual void run() noexcept = 0;
  // Delivers CallAbandoned(why). Called once, after cancel() succeeded.
  virtual void abandon(const std::string& why) noexcept = 0;

  bool claim() noexcept { return transition(State::running); }
  bool cancel() noexcept { return transition(State::abandoned); }

 private:
  enum class State { queued, running, abandoned };
  bool transition(State to) noexcept {
    State expected = State::queued;
    return state_.compare_exchange_strong(expected, to);
  }
  std::atomic<State> state_{State::queued};
};

template <class R>
void set_outcome(std::promise<R>& promise, auto& call) {
  if constexpr (std::is_void_v<R>) {
    call();
    promise.set_value();
  } else {
    promise.set_value(call());
  }
}
}  // namespace detail

struct ExecutorOptions {
  std::size_t threads = 8;      // the calls that can block at once (at most the pool's connections)
  std::size_t queue_limit = 0;  // calls waiting for a thread; 0: no limit
};

class BlockingExecutor {
 public:
  using Options = ExecutorOptions;

  explicit BlockingExecutor(Options options = {});
  ~BlockingExecutor();
  BlockingExecutor(const BlockingExecutor&) = delete;
  BlockingExecutor& operator=(const BlockingExecutor&) = delete;

  // Runs call() on a thread of the executor; the future holds its result or its exception
  // (CallAbandoned when it never ran).
  template <class F>
  auto submit(F call) -> std::future<std::invoke_result_t<F&>> {
    using R = std::invoke_result_t<F&>;
    auto job = std::make_shared<FutureJob<F, R>>(std::move(call));
    std::future<R> future = job->promise.get_future();
    enqueue(job);
    return future;
  }

  // Queues a job (the form async/asio.hpp builds on). CallAbandoned when the executor is
  // shutting down or its queue is full: the job is then not queued and not delivered.
  void enqueue(std::shared_ptr<detail::Job> job);
  // Abandons a queued job (delivering CallAbandoned) unless a thread already took it; returns
  // whether it did.
  static bool cancel(const std::shared_ptr<detail::Job>& job);

  std::size_t threads() const noexcept { return workers_.size(); }
  // Calls waiting for a thread (cancelled ones included until a thread skips them).
  std::size_t queued() const;

 private:
  template <class F, class R>
  struct FutureJob final : detail::Job {
    explicit FutureJob(F f) : call(std::move(f)) {}
    void run() noexcept override {
      try {
        detail::set_outcome(promise, call);
      } catch (...) {
        promise.set_exception(std::current_exception());
      }
    }
    void abandon(const std::string& why) noexcept override {
      promise.set_exception(std::make_exception_ptr(CallAbandoned(why)));
    }
    F call;
    std::promise<R> promise;
  };

  static bool cancel_with(const std::shared_ptr<detail::Job>& job, const std::string& why);
  void work();

  Options options_;
  mutable std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<std::shared_ptr<detail::Job>> queue_;
  bool stopping_ = false;
  std::vector<std::thread> workers_;
};

}  // namespace mongo_orm::async
