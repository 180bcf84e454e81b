// mongo_orm's calls as Asio asynchronous operations: the blocking call runs on a
// BlockingExecutor thread, and its completion is delivered on the caller's executor (the event
// loop), through any completion token: asio::use_awaitable (co_await), asio::use_future, a
// callback bound to an executor (asio::bind_executor).
//
//   asio::awaitable<void> show(async::AsyncCollection<User> users, bson::ObjectId id) {
//     std::optional<Tracked<User>> user = co_await users.get_by_id(id, asio::use_awaitable);
//     Tracked<User> saved = co_await users.save(std::move(*user), asio::use_awaitable);
//     int64_t n = co_await async::async_call(users.executor(), [raw = users.typed()] { return raw.count(); },
//                                            asio::use_awaitable);
//   }
//
// An exception the call throws reaches the awaiting coroutine (with use_awaitable) or the
// future; the completion signature is void(std::exception_ptr, R), or void(std::exception_ptr)
// for a call returning void.
//
// Cancellation: a call cancelled (through the handler's cancellation slot, e.g. an
// asio::experimental::awaitable_operators race or asio::bind_cancellation_slot) before a thread
// took it never runs and completes with CallAbandoned. A call already running cannot be stopped
// (the driver call blocks); it completes normally, and its completion handler, which owns the
// awaiting coroutine, keeps everything alive until then. A call holds a work guard on the
// handler's executor, so io_context::run does not return while calls are in flight.
//
// Completions run on the handler's associated executor: the coroutine's with use_awaitable, the
// bound one with bind_executor; a bare callback runs on Asio's system executor (a thread of
// Asio's), as Asio's own operations without an I/O object do.
#pragma once

#include <asio/associated_cancellation_slot.hpp>
#include <asio/associated_executor.hpp>
#include <asio/async_result.hpp>
#include <asio/cancellation_type.hpp>
#include <asio/execution/outstanding_work.hpp>
#include <asio/post.hpp>
#include <asio/prefer.hpp>

#include <exception>
#include <memory>
#include <optional>
#include <type_traits>
#include <utility>
#include <vector>

#include "mongo_orm/async/executor.hpp"
#include "mongo_orm/model/typed_collection.hpp"

namespace mongo_orm::async {

namespace detail {
template <class R>
struct CompletionOf {
  using signature = void(std::exception_ptr, R);
};
template <>
struct CompletionOf<void> {
  using signature = void(std::exception_ptr);
};

// A call on an object that goes in by value and comes back in the result: on an error, and when
// the call never runs, the object comes back beside the error as it went in (its changes kept).
template <class Object, class R, class Call>
struct HandsBack {
  Object object;
  Call call;
  R operator()() { return call(object); }
  R recover() { return R(std::move(object)); }
};
template <class R, class Object, class Call>
HandsBack<Object, R, Call> hands_back(Object object, Call call) {
  return {std::move(object), std::move(call)};
}

template <class F, class R, class Handler>
class AsioJob final : public Job, public std::enable_shared_from_this<AsioJob<F, R, Handler>> {
 public:
  AsioJob(F call, Handler handler)
      : call_(std::move(call)),
        handler_(std::move(handler)),
        work_(asio::prefer(asio::get_associated_executor(handler_), asio::execution::outstanding_work.tracked)) {}

  // Connects the handler's cancellation slot, if it has one, to this job.
  void watch_cancellation() {
    auto slot = asio::get_associated_cancellation_slot(handler_);
    if (!slot.is_connected()) return;
    slot.assign([weak = std::weak_ptr<AsioJob>(this->shared_from_this())](asio::cancellation_type type) {
      if (type == asio::cancellation_type::none) return;
      if (auto job = weak.lock()) BlockingExecutor::cancel(job);
    });
  }

  void run() noexcept override {
    std::exception_ptr error;
    if constexpr (std::is_void_v<R>) {
      try {
        call_();
      } catch (...) {
        error = std::current_exception();
      }
      deliver(error);
    } else {
      try {
        R result = call_();
        deliver(nullptr, std::move(result));
        return;
      } catch (...) {
        error = std::current_exception();
      }
      deliver(error, recovered());
    }
  }
  void abandon(const std::string& why) noexcept override {
    std::exception_ptr error = std::make_exception_ptr(CallAbandoned(why));
    if constexpr (std::is_void_v<R>) {
      deliver(error);
    } else {
      deliver(error, recovered());
    }
  }

 private:
  // What comes beside an error: what the call hands back (HandsBack), else R{}.
  R recovered() noexcept {
    if constexpr (requires { call_.recover(); }) {
      return call_.recover();
    } else {
      return R{};
    }
  }

  template <class... Result>
  void deliver(std::exception_ptr error, Result... result) noexcept {
    auto self = this->shared_from_this();
    auto work = std::move(work_);
    asio::post(work, [self, error, ... result = std::move(result)]() mutable {
      auto slot = asio::get_associated_cancellation_slot(self->handler_);
      if (slot.is_connected()) slot.clear();
      Handler handler = std::move(self->handler_);
      if constexpr (sizeof...(Result) == 0) {
        std::move(handler)(error);
      } else {
        std::move(handler)(error, std::move(result)...);
      }
    });
  }

  F call_;
  Handler handler_;
  std::decay_t<decltype(asio::prefer(asio::get_associated_executor(std::declval<Handler&>()),
                                     asio::execution::outstanding_work.tracked))>
      work_;
};
}  // namespace detail

// Runs call() on the executor and completes through `token` with its result.
template <class F, class CompletionToken>
auto async_call(BlockingExecutor& executor, F call, CompletionToken&& token) {
  using R = std::invoke_result_t<F&>;
  static_assert(std::is_void_v<R> || std::is_default_constructible_v<R>,
                "async_call delivers R{} beside an exception: the result type must be default-constructible");
  using Signature = typename detail::CompletionOf<R>::signature;
  return asio::async_initiate<CompletionToken, Signature>(
      [&executor](auto handler, F f) {
        using Handler = decltype(handler);
        auto job = std::make_shared<detail::AsioJob<F, R, Handler>>(std::move(f), std::move(handler));
        job->watch_cancellation();
        try {
          executor.enqueue(job);
        } catch (const CallAbandoned& e) {  // full, or shutting down: delivered as any abandoned call
          if (job->cancel()) job->abandon(e.what());
        }
      },
      token, std::move(call));
}

// A typed collection's calls as asynchronous operations. Objects go in by value and come back
// in the result (a save returns the saved object): nothing the caller holds is touched by
// another thread. Cheap to copy.
template <model::Model T>
class AsyncCollection {
 public:
  AsyncCollection(model::TypedCollection<T> collection, BlockingExecutor& executor)
      : collection_(std::move(collection)), executor_(&executor) {}

  const model::TypedCollection<T>& typed() const noexcept { return collection_; }
  BlockingExecutor& executor() const noexcept { return *executor_; }

  template <class Id, class Token>
  auto get_by_id(Id id, Token&& token) const {
    return async_call(*executor_, [c = collection_, id = std::move(id)] { return c.get_by_id(id); }, std::forward<Token>(token));
  }
  template <class Token>
  auto find_one(model::Filter filter, Token&& token) const {
    return async_call(*executor_, [c = collection_, f = std::move(filter)] { return c.find_one(f); }, std::forward<Token>(token));
  }
  // Every match of a query (TypedQuery::to_vector, populate included).
  template <class Token>
  auto to_vector(model::TypedQuery<T> query, Token&& token) const {
    return async_call(*executor_, [q = std::move(query)] { return q.to_vector(); }, std::forward<Token>(token));
  }
  template <class Token>
  auto count(model::Filter filter, Token&& token) const {
    return async_call(*executor_, [c = collection_, f = std::move(filter)] { return c.count(f); }, std::forward<Token>(token));
  }
  // Completes with the inserted object. On an error (a duplicate key, a validation failure, a
  // call abandoned) the object comes back beside it, not stored (its _id and defaults may be
  // filled), as save's does.
  template <class Token>
  auto insert(T object, Token&& token) const {
    return async_call(*executor_,
                      detail::hands_back<model::Tracked<T>>(model::Tracked<T>(std::move(object)),
                                                            [c = collection_](model::Tracked<T>& o) {
                                                              c.insert(o);
                                                              return std::move(o);
                                                            }),
                      std::forward<Token>(token));
  }
  // Completes with the saved object (its new stored state). On an error (a conflict, a
  // validation failure, a call abandoned) the object comes back beside it as it went in, its
  // changes kept, so nothing the caller made is lost; use_awaitable rethrows and drops it,
  // asio::experimental::as_tuple keeps both:
  //   auto [error, user] = co_await users.save(std::move(u), asio::experimental::as_tuple(asio::use_awaitable));
  template <class Token>
  auto save(model::Tracked<T> object, Token&& token) const {
    return async_call(*executor_,
                      detail::hands_back<model::Tracked<T>>(std::move(object),
                                                            [c = collection_](model::Tracked<T>& o) {
                                                              c.save(o);
                                                              return std::move(o);
                                                            }),
                      std::forward<Token>(token));
  }
  template <class Token>
  auto remove(model::Tracked<T> object, Token&& token) const {
    return async_call(*executor_, [c = collection_, o = std::move(object)]() mutable { return c.remove(o); },
                      std::forward<Token>(token));
  }
  template <class Token>
  auto update_many(model::Filter filter, model::Update update, Token&& token) const {
    return async_call(*executor_, [c = collection_, f = std::move(filter), u = std::move(update)] { return c.update_many(f, u); },
                      std::forward<Token>(token));
  }
  template <class Token>
  auto delete_many(model::Filter filter, Token&& token) const {
    return async_call(*executor_, [c = collection_, f = std::move(filter)] { return c.delete_many(f); }, std::forward<Token>(token));
  }

 private:
  model::TypedCollection<T> collection_;
  BlockingExecutor* executor_;
};

}  // namespace mongo_orm::async
