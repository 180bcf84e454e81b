// The asynchronous face under load: 1,000 concurrent find-by-id requests issued from one Asio
// loop thread (co_await on AsyncCollection over a BlockingExecutor of N threads), against N
// plain threads doing the same 1,000 blocking get_by_id calls between them. Both use the same
// client pool. Reported: requests per second and the latency of each request (from issue to
// completion), median and 99th percentile.
//
//   build/bench/async_find [--threads N] [--requests R] [--rounds K]
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <asio/use_awaitable.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "mongo_orm/async/asio.hpp"
#include "mongo_orm/mongo_orm.hpp"
#include "server.hpp"
#include "user_model.hpp"

namespace bench {
namespace {

using namespace mongo_orm;
using Clock = std::chrono::steady_clock;

constexpr const char* bench_db = "mongo_orm_bench_async";

struct Figures {
  double per_second;
  double p50_ms;
  double p99_ms;
};

Figures figures(std::vector<double> latencies_ms, double seconds) {
  std::sort(latencies_ms.begin(), latencies_ms.end());
  auto at = [&](double q) { return latencies_ms[static_cast<std::size_t>(q * static_cast<double>(latencies_ms.size() - 1))]; };
  return {static_cast<double>(latencies_ms.size()) / seconds, at(0.5), at(0.99)};
}
double ms_since(Clock::time_point start) { return std::chrono::duration<double, std::milli>(Clock::now() - start).count(); }

Figures run_loop(const model::TypedCollection<User>& users, const std::vector<bson::ObjectId>& ids, std::size_t threads) {
  async::BlockingExecutor executor({.threads = threads});
  async::AsyncCollection<User> async_users(users, executor);
  asio::io_context loop;
  std::vector<double> latencies(ids.size());
  std::size_t missing = 0;
  Clock::time_point start = Clock::now();
  for (std::size_t i = 0; i < ids.size(); ++i) {
    asio::co_spawn(
        loop,
        [&, i]() -> asio::awaitable<void> {
          Clock::time_point issued = Clock::now();
          auto user = co_await async_users.get_by_id(ids[i], asio::use_awaitable);
          latencies[i] = ms_since(issued);
          if (!user) ++missing;
        },
        asio::detached);
  }
  loop.run();
  double seconds = ms_since(start) / 1000;
  if (missing) std::fprintf(stderr, "async_find: %zu documents not found\n", missing);
  return figures(std::move(latencies), seconds);
}

Figures run_threads(const model::TypedCollection<User>& users, const std::vector<bson::ObjectId>& ids, std::size_t threads) {
  std::vector<double> latencies(ids.size());
  std::atomic<std::size_t> next{0};
  Clock::time_point start = Clock::now();
  std::vector<std::thread> pool;
  for (std::size_t t = 0; t < threads; ++t) {
    pool.emplace_back([&] {
      // Every request is issued at the start, as the loop issues them: its latency includes
      // the wait for a free thread.
      for (std::size_t i = next++; i < ids.size(); i = next++) {
        auto user = users.get_by_id(ids[i]);
        latencies[i] = ms_since(start);
        if (!user) std::fprintf(stderr, "async_find: a document was not found\n");
      }
    });
  }
  for (std::thread& t : pool) t.join();
  return figures(std::move(latencies), ms_since(start) / 1000);
}

}  // namespace
}  // namespace bench

int main(int argc, char** argv) {
  using namespace bench;
  std::size_t threads = 8, requests = 1000, rounds = 5;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i];
    std::size_t value = std::strtoul(argv[i + 1], nullptr, 10);
    if (flag == "--threads") threads = value;
    else if (flag == "--requests") requests = value;
    else if (flag == "--rounds") rounds = value;
  }
  if (!server_uri()) {
    std::fprintf(stderr, "async_find: MONGODB_URI is not set (scripts/bench.sh starts a local server)\n");
    return 1;
  }
  mongoc_init();
  {
    Client client(server_uri(), {.max_pool_size = static_cast<int32_t>(threads) + 2});
    model::TypedCollection<User> users(client.database(bench_db));
    users.raw().drop();
    std::vector<User> batch;
    for (std::size_t i = 0; i < requests; ++i) batch.push_back(make_user(static_cast<int64_t>(i)));
    std::vector<bson::ObjectId> ids;
    for (auto& stored : users.insert_many(std::move(batch))) ids.push_back(stored->id);

    std::printf("%zu concurrent find-by-id requests, %zu blocking threads, best of %zu rounds\n", requests, threads, rounds);
    std::printf("%-44s%14s%12s%12s\n", "", "requests/s", "p50 ms", "p99 ms");
    Figures best_loop{0, 0, 0}, best_threads{0, 0, 0};
    for (std::size_t r = 0; r < rounds; ++r) {
      Figures loop = run_loop(users, ids, threads);
      Figures pool = run_threads(users, ids, threads);
      if (loop.per_second > best_loop.per_second) best_loop = loop;
      if (pool.per_second > best_threads.per_second) best_threads = pool;
    }
    std::printf("%-44s%14.0f%12.2f%12.2f\n", "one Asio loop thread (co_await, executor)", best_loop.per_second, best_loop.p50_ms,
                best_loop.p99_ms);
    std::printf("%-44s%14.0f%12.2f%12.2f\n", "blocking threads", best_threads.per_second, best_threads.p50_ms, best_threads.p99_ms);
    std::printf("%-44s%14.2fx\n", "loop throughput / threads throughput", best_loop.per_second / best_threads.per_second);
    users.raw().drop();
  }
  mongoc_cleanup();
  return 0;
}
