#include "mongo_orm/async/executor.hpp"

namespace mongo_orm::async {

BlockingExecutor::BlockingExecutor(Options options) : options_(options) {
  if (options_.threads == 0) throw ConfigurationError("a BlockingExecutor needs at least one thread");
  workers_.reserve(options_.threads);
  for (std::size_t i = 0; i < options_.threads; ++i) workers_.emplace_back([this] { work(); });
}

BlockingExecutor::~BlockingExecutor() {
  std::deque<std::shared_ptr<detail::Job>> left;
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    left.swap(queue_);
  }
  ready_.notify_all();
  for (const auto& job : left) cancel_with(job, "the executor was destroyed before the call ran");
  for (std::thread& worker : workers_) worker.join();
}

void BlockingExecutor::enqueue(std::shared_ptr<detail::Job> job) {
  {
    std::lock_guard lock(mutex_);
    if (stopping_) throw CallAbandoned("the executor is shutting down: the call was not queued");
    if (options_.queue_limit > 0 && queue_.size() >= options_.queue_limit) {
      throw CallAbandoned("the executor's queue is full (" + std::to_string(queue_.size()) +
                          " calls waiting): the call was not queued");
    }
    queue_.push_back(std::move(job));
  }
  ready_.notify_one();
}

bool BlockingExecutor::cancel(const std::shared_ptr<detail::Job>& job) {
  return cancel_with(job, "the call was cancelled before it ran");
}

bool BlockingExecutor::cancel_with(const std::shared_ptr<detail::Job>& job, const std::string& why) {
  if (!job->cancel()) return false;
  job->abandon(why);
  return true;
}

std::size_t BlockingExecutor::queued() const {
  std::lock_guard lock(mutex_);
  return queue_.size();
}

void BlockingExecutor::work() {
  for (;;) {
    std::shared_ptr<detail::Job> job;
    {
      std::unique_lock lock(mutex_);
      ready_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, nothing left
      job = std::move(queue_.front());
      queue_.pop_front();
    }
    if (job->claim()) job->run();  // else: cancelled while queued, already delivered
  }
}

}  // namespace mongo_orm::async
