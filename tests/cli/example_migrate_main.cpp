// An application's own migrate program: its migrations, its models and one call. The models
// are chosen by EXAMPLE_MODELS (unset: none; "1" or "2": two versions of an accounts model), so
// that a test can change the models between runs.
#include <cstdlib>
#include <string>

#include "migrate/seed_migrations.hpp"
#include "mongo_orm/cli/cli.hpp"
#include "mongo_orm/migrate/verify.hpp"

namespace {
using namespace mongo_orm;

struct AccountV1 {
  bson::ObjectId id;
  std::string email;
  int32_t age = 0;
};
auto define_schema(model::SchemaTag<AccountV1>) {
  return model::schema<AccountV1>("accounts").id(&AccountV1::id).field(&AccountV1::email, "email").field(&AccountV1::age, "age");
}

struct AccountV2 {
  bson::ObjectId id;
  std::string email;
  int32_t age = 0;
  std::string status = "active";
};
auto define_schema(model::SchemaTag<AccountV2>) {
  return model::schema<AccountV2>("accounts")
      .id(&AccountV2::id)
      .field(&AccountV2::email, "email")
      .field(&AccountV2::age, "age", model::min(0))
      .field(&AccountV2::status, "status", model::default_value(std::string("active")))
      .index({.unique = true}, model::asc(&AccountV2::email));
}
}  // namespace

int main(int argc, char** argv) {
  mongo_orm::migrate::Registry registry;
  registry.add(seed::add_user_status()).add(seed::normalize_emails());
  mongo_orm::migrate::ModelSet models;
  const char* version = std::getenv("EXAMPLE_MODELS");
  if (version && std::string(version) == "1") models.add<AccountV1>("accounts");
  if (version && std::string(version) == "2") models.add<AccountV2>("accounts");
  return mongo_orm::cli::run(argc, argv, registry, models);
}
