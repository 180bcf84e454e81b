// A lease lock so that one runner at a time changes a database: taken atomically, expiring by
// the server's clock, renewed while work runs, and fenced by a token that rises with every
// acquisition.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "mongo_orm/driver/collection.hpp"
#include "mongo_orm/driver/database.hpp"
#include "mongo_orm/error.hpp"

namespace mongo_orm::migrate {

// The lock is held by another runner (after waiting as long as asked).
class LockBusyError : public MigrationError {
 public:
  using MigrationError::MigrationError;
};

// This runner no longer holds the lock (it expired and was taken, or was force-unlocked):
// nothing more may be written.
class LockLostError : public MigrationError {
 public:
  using MigrationError::MigrationError;
};

struct LockOptions {
  std::string collection = "_mongo_orm_locks";
  std::string name = "migrations";
  std::chrono::milliseconds ttl{30'000};        // a crashed holder's lock expires after this
  std::chrono::milliseconds wait{0};            // how long acquire waits for a busy lock
  std::chrono::milliseconds retry_interval{250};
  bool renew_in_background = true;              // extend the lease every ttl / 3
  // Told, once per acquisition, what acquire is doing beyond the plain case: waiting for a
  // holder (who, and until when), or taking over from a holder whose process is gone.
  std::function<void(const std::string&)> notice{};
};

class LeaseLock {
 public:
  // Takes the lock, waiting up to options.wait; LockBusyError naming the holder otherwise. A
  // holder that is provably gone (its process, on this same machine and process table, no
  // longer runs) is taken over at once, under a new fencing token.
  static std::unique_ptr<LeaseLock> acquire(const Database& database, const LockOptions& options = {});
  // The fencing token of the runner holding the lock now: none when the lock is free, expired,
  // or held by a process that is provably gone (as acquire judges it).
  static std::optional<int64_t> live_holder_token(const Database& database, const LockOptions& options = {});
  // Frees the lock whoever holds it (for a holder known to be gone); returns whether it was
  // held. The holder finds out at its next confirm(); the fencing token keeps rising.
  static bool force_unlock(const Database& database, const LockOptions& options = {});

  LeaseLock(const LeaseLock&) = delete;
  LeaseLock& operator=(const LeaseLock&) = delete;
  // Stops renewing and releases the lock if it is still this one's.
  ~LeaseLock();

  // Checks on the server, atomically, that this lease still holds the lock (owner and token)
  // and extends it; LockLostError otherwise. Called before every changelog write.
  void confirm();
  bool lost() const noexcept { return lost_.load(); }
  int64_t token() const noexcept { return token_; }
  const std::string& owner() const noexcept { return owner_; }
  // The fencing token of a holder whose process was gone and whose lock this one took over at
  // once, before its lease ran out: the server may still be carrying out the last command that
  // process sent.
  std::optional<int64_t> taken_over_from() const noexcept { return taken_over_from_; }

 private:
  LeaseLock(Collection locks, LockOptions options, std::string owner, int64_t token);
  void renew_loop(std::stop_token stop);

  Collection locks_;
  LockOptions options_;
  std::string owner_;
  int64_t token_;
  std::optional<int64_t> taken_over_from_;
  std::atomic<bool> lost_{false};
  std::jthread renewer_;  // last: stopped and joined before the members it uses go
};

// The server's current time (hello.localTime, a date or integer milliseconds since the epoch),
// so that every runner measures expiry by the same clock. MigrationError when the reply has
// no clock at all.
std::chrono::system_clock::time_point server_time(const Database& database);
// The clock in a hello reply, read as server_time reads it.
std::chrono::system_clock::time_point clock_of_hello(bson::DocumentView hello);

}  // namespace mongo_orm::migrate
