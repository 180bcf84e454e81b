// The lease lock on a fixed _id, with a separate fencing-token counter.
#include "mongo_orm/migrate/lock.hpp"

#include <unistd.h>

#include <condition_variable>
#include <mutex>
#include <optional>

#include "mongo_orm/bson/builder.hpp"
#include "mongo_orm/driver/collection.hpp"
#include "process.hpp"

namespace mongo_orm::migrate {

namespace {

using bson::Builder;
using bson::DateTime;

std::string new_owner_id() {
  return detail::host_name() + ":" + std::to_string(getpid()) + ":" + bson::ObjectId::generate().to_hex().substr(16);
}

std::string describe_holder(const Collection& locks, const std::string& name) {
  auto holder = locks.find_one(Builder{}.append("_id", name).extract());
  if (!holder) return "another runner (the lock was released meanwhile)";
  auto owner = holder->find("owner");
  std::string text = owner && owner->type() == bson::Type::string ? std::string(owner->as_string()) : "an unknown owner";
  if (auto expires = holder->find("expires_at"); expires && expires->type() == bson::Type::date_time) {
    text += " until " + expires->as_date_time().to_iso8601() + " (server time)";
  }
  return text;
}

std::string text_of(bson::DocumentView holder, std::string_view key) {
  auto e = holder.find(key);
  return e && e->type() == bson::Type::string ? std::string(e->as_string()) : std::string();
}

int64_t number_of(bson::DocumentView holder, std::string_view key) {
  auto e = holder.find(key);
  if (!e) return 0;
  return e->type() == bson::Type::int64 ? e->as_int64() : e->type() == bson::Type::int32 ? e->as_int32() : 0;
}

// Whether the lock document names a holder on this machine, in this process table, whose
// process no longer runs: it will never release or renew its lease.
bool holder_gone(bson::DocumentView holder, const std::string& identity) {
  if (identity.empty() || text_of(holder, "process_table") != identity) return false;
  int64_t pid = number_of(holder, "pid");
  return pid != getpid() && detail::process_gone(pid, number_of(holder, "pid_start"));
}

// A holder that is provably gone has its lock document deleted (only that one: the filter
// names its owner) so that the next insert takes the lock under a new token. Returns whether
// the caller should try again at once. `gone_token`: the fencing token of the holder taken over.
bool take_over_if_gone(const Collection& locks, const LockOptions& options, const std::string& identity,
                       std::optional<int64_t>& gone_token) {
  if (identity.empty()) return false;
  auto holder = locks.find_one(Builder{}.append("_id", options.name).extract());
  if (!holder) return true;  // released meanwhile: try again at once
  if (!holder_gone(holder->view(), identity)) return false;
  std::string owner = text_of(holder->view(), "owner");
  if (locks.delete_one(Builder{}.append("_id", options.name).append("owner", owner).extract()).deleted_count == 0) {
    return true;  // someone else removed it first: try again
  }
  if (holder->find("token")) gone_token = number_of(holder->view(), "token");
  if (options.notice) {
    options.notice("took over migration lock '" + options.name + "' from " + owner + ": its process " +
                   std::to_string(number_of(holder->view(), "pid")) + " on this machine is gone");
  }
  return true;
}

}  // namespace

std::chrono::system_clock::time_point server_time(const Database& database) {
  return clock_of_hello(database.client().run_command("admin", Builder{}.append("hello", 1).extract()));
}

std::chrono::system_clock::time_point clock_of_hello(bson::DocumentView hello) {
  auto local = hello.find("localTime");
  std::optional<int64_t> millis;
  if (local) {
    switch (local->type()) {
      case bson::Type::date_time: return local->as_date_time().to_time_point();
      case bson::Type::int64: millis = local->as_int64(); break;
      case bson::Type::int32: millis = local->as_int32(); break;
      case bson::Type::double_: millis = static_cast<int64_t>(local->as_double()); break;
      default: break;
    }
  }
  if (!millis) {
    throw MigrationError("the server's hello reply has no localTime (a date, or milliseconds since the epoch); "
                         "lock expiry needs the server's clock");
  }
  return DateTime(*millis).to_time_point();
}

// Taking the lock is an insert on the fixed _id: the unique _id lets exactly one runner in,
// on every server (FerretDB's findAndModify is not atomic between concurrent clients, an
// insert is). An expired lock document is deleted first. The fencing token then comes from a
// counter document that only the runner holding the lock writes, so it rises with every
// acquisition and never goes back, releases and forced unlocks included.
std::unique_ptr<LeaseLock> LeaseLock::acquire(const Database& database, const LockOptions& options) {
  Collection locks = database.collection(options.collection);
  std::string owner = new_owner_id();
  std::string identity = detail::process_table_identity();
  bool told_waiting = false;
  std::optional<int64_t> gone_token;
  auto deadline = std::chrono::steady_clock::now() + options.wait;
  while (true) {
    DateTime now = DateTime::from_time_point(server_time(database));
    locks.delete_one(
        Builder{}.append("_id", options.name).append("expires_at", [&](Builder& c) { c.append("$lt", now); }).extract());
    try {
      locks.insert_one(Builder{}
                           .append("_id", options.name)
                           .append("owner", owner)
                           .append("host", detail::host_name())
                           .append("pid", static_cast<int64_t>(getpid()))
                           .append("pid_start", detail::process_start_ticks(getpid()))
                           .append("process_table", identity)
                           .append("acquired_at", now)
                           .append("expires_at", DateTime(now.millis() + options.ttl.count()))
                           .extract());
      auto fence = locks.find_one_and_update(
          Builder{}.append("_id", options.name + ".fence").extract(),
          Builder{}.append("$inc", [](Builder& inc) { inc.append("token", int64_t{1}); }).extract(),
          {.upsert = true, .return_document = ReturnDocument::after});
      auto token_element = (*fence)["token"];
      int64_t token = token_element.type() == bson::Type::int32 ? token_element.as_int32() : token_element.as_int64();
      locks.update_one(Builder{}.append("_id", options.name).append("owner", owner).extract(),
                       Builder{}.append("$set", [&](Builder& set) { set.append("token", token); }).extract());
      auto lock = std::unique_ptr<LeaseLock>(new LeaseLock(locks, options, owner, token));
      lock->taken_over_from_ = gone_token;
      return lock;
    } catch (const DuplicateKeyError&) {
      // Held by another runner and not expired.
    }
    if (take_over_if_gone(locks, options, identity, gone_token)) continue;
    if (!told_waiting && options.notice && options.wait.count() > 0) {
      options.notice("waiting up to " + std::to_string(options.wait.count()) + " ms for migration lock '" +
                     options.name + "', held by " + describe_holder(locks, options.name));
      told_waiting = true;
    }
    if (std::chrono::steady_clock::now() + options.retry_interval > deadline) {
      throw LockBusyError("migration lock '" + options.name + "' in " + locks.namespace_name() + " is held by " +
                          describe_holder(locks, options.name) + "; waited " +
                          std::to_string(options.wait.count()) + " ms (use a longer wait, or unlock --force if "
                          "that runner is gone)");
    }
    std::this_thread::sleep_for(options.retry_interval);
  }
}

std::optional<int64_t> LeaseLock::live_holder_token(const Database& database, const LockOptions& options) {
  auto holder = database.collection(options.collection).find_one(Builder{}.append("_id", options.name).extract());
  if (!holder) return std::nullopt;
  auto token = holder->find("token");
  auto expires = holder->find("expires_at");
  if (!token || token->type() != bson::Type::int64 || !expires || expires->type() != bson::Type::date_time) {
    return std::nullopt;
  }
  if (expires->as_date_time().to_time_point() <= server_time(database)) return std::nullopt;
  if (holder_gone(holder->view(), detail::process_table_identity())) return std::nullopt;
  return token->as_int64();
}

bool LeaseLock::force_unlock(const Database& database, const LockOptions& options) {
  return database.collection(options.collection).delete_one(Builder{}.append("_id", options.name).extract()).deleted_count > 0;
}

LeaseLock::LeaseLock(Collection locks, LockOptions options, std::string owner, int64_t token)
    : locks_(std::move(locks)), options_(std::move(options)), owner_(std::move(owner)), token_(token) {
  if (options_.renew_in_background) {
    renewer_ = std::jthread([this](std::stop_token stop) { renew_loop(stop); });
  }
}

LeaseLock::~LeaseLock() {
  if (renewer_.joinable()) {
    renewer_.request_stop();
    renewer_.join();
  }
  if (lost_) return;
  try {
    locks_.delete_one(Builder{}.append("_id", options_.name).append("owner", owner_).append("token", token_).extract());
  } catch (const Error&) {
    // The lock then expires by itself after its ttl; a destructor must not throw.
  }
}

void LeaseLock::confirm() {
  if (lost_) throw LockLostError("migration lock '" + options_.name + "' was lost by " + owner_ + "; nothing more is written");
  DateTime expires(DateTime::from_time_point(server_time(locks_.client().database(locks_.database_name()))).millis() +
                   options_.ttl.count());
  auto held = locks_.find_one_and_update(
      Builder{}.append("_id", options_.name).append("owner", owner_).append("token", token_).extract(),
      Builder{}.append("$set", [&](Builder& set) { set.append("expires_at", expires); }).extract());
  if (!held) {
    lost_ = true;
    throw LockLostError("migration lock '" + options_.name + "' is no longer held by " + owner_ + " (token " +
                        std::to_string(token_) + "): it expired and was taken, or was unlocked by force; "
                        "nothing more is written");
  }
}

void LeaseLock::renew_loop(std::stop_token stop) {
  std::mutex mutex;
  std::condition_variable_any wake;
  auto period = options_.ttl / 3;
  while (!stop.stop_requested()) {
    std::unique_lock guard(mutex);
    if (wake.wait_for(guard, stop, period, [] { return false; })) break;
    if (stop.stop_requested()) break;
    try {
      confirm();
    } catch (const LockLostError&) {
      return;
    } catch (const Error&) {
      // A passing network failure: try again next period; confirm() before each write decides.
    }
  }
}

}  // namespace mongo_orm::migrate
