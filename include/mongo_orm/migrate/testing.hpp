// Helpers for testing migrations (seed 000 "Testing Migrations"), usable from GoogleTest or any
// other framework: a temporary database dropped afterwards, snapshots of a database, and the
// round trip up, down, up with the documents compared.
//
//   TEST(Migrations, RoundTrip) {
//     mongo_orm::Client client(std::getenv("MONGODB_URI"));
//     mongo_orm::migrate::TemporaryDatabase scratch(client);
//     load_fixtures(scratch.database());
//     auto result = mongo_orm::migrate::round_trip(scratch.database(), my_registry());
//     EXPECT_TRUE(result.ok()) << result.describe();
//   }
#pragma once

#include <map>
#include <string>
#include <vector>

#include "mongo_orm/driver/client.hpp"
#include "mongo_orm/driver/database.hpp"
#include "mongo_orm/migrate/registry.hpp"
#include "mongo_orm/migrate/runner.hpp"

namespace mongo_orm::migrate {

// A database with a fresh unique name ("<prefix>_<pid>_<n>"), dropped when this goes.
class TemporaryDatabase {
 public:
  explicit TemporaryDatabase(const Client& client, std::string prefix = "mongo_orm_tmp");
  TemporaryDatabase(const TemporaryDatabase&) = delete;
  TemporaryDatabase& operator=(const TemporaryDatabase&) = delete;
  ~TemporaryDatabase();

  const Database& database() const noexcept { return database_; }

 private:
  Database database_;
};

// Every document of every collection in _id order, the bookkeeping of mongo_orm (changelog,
// locks, backups) left out, empty collections counted as absent.
struct Snapshot {
  std::map<std::string, std::vector<bson::Document>> collections;
};
Snapshot snapshot(const Database& database);

// The first difference between two snapshots, naming the collection, the _id and the field;
// empty when they hold the same documents. Field order does not count (a field removed and
// set back comes last), nor do top-level fields named in `ignored`.
std::string difference(const Snapshot& expected, const Snapshot& actual, const std::vector<std::string>& ignored = {});

// Copies every collection of `from` (bookkeeping included) into `to`, which should be empty.
void copy_database(const Database& from, const Database& to, int32_t batch_size = 1000);

struct RoundTripResult {
  std::vector<std::string> applied;  // the versions the first up applied
  std::string after_down;            // difference between the data before up and after down
  std::string after_second_up;       // difference between the first and the second up
  // Whether any migration was applied: with nothing pending, nothing was tested.
  bool exercised() const noexcept { return !applied.empty(); }
  // Something was exercised and every comparison held; never a pass about nothing.
  bool ok() const noexcept { return exercised() && after_down.empty() && after_second_up.empty(); }
  std::string describe() const;
};

// Runs up, down (of what the up applied), up again, and compares the documents. The second up
// is compared without the time a quarantine entry records (quarantined_at). Refuses
// (MigrationError) when a pending migration is irreversible.
RoundTripResult round_trip(const Database& database, const Registry& registry, RunnerOptions options = {});
// The same on a temporary copy of `database`, which is left untouched.
RoundTripResult round_trip_on_copy(const Database& database, const Registry& registry, RunnerOptions options = {});

}  // namespace mongo_orm::migrate
