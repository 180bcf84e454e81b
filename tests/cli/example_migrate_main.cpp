// An application's own migrate program: its migrations and one call.
#include "migrate/seed_migrations.hpp"
#include "mongo_orm/cli/cli.hpp"

int main(int argc, char** argv) {
  mongo_orm::migrate::Registry registry;
  registry.add(seed::add_user_status()).add(seed::normalize_emails());
  return mongo_orm::cli::run(argc, argv, registry);
}
