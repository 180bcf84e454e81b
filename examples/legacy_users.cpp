// A migrate program for an application's users collection, written the way an application
// would: its models, its C++ migrations, and one call to mongo_orm::cli::run. The JSON migrations
// in examples/migrations/ run beside the C++ ones (`migrate --dir examples/migrations ...`).
//
//   legacy_users load-legacy [--uri URI] [--database DB]   writes the sample data a v1 app left
//   legacy_users migrate [--dir DIR] plan|up|verify|status|down|...
#include <chrono>
#include <cstring>
#include <iostream>
#include <string>

#include "mongo_orm/cli/cli.hpp"
#include "mongo_orm/cli/embedded_server.hpp"
#include "mongo_orm/mongo_orm.hpp"

using namespace mongo_orm;
using namespace mongo_orm::model;
using namespace mongo_orm::migrate;

// The users collection as the current application reads it (after every migration).
struct User {
  bson::ObjectId id;
  std::string first_name;
  std::string last_name;
  std::string email;
  int32_t age = 0;
  std::string status = "active";
  bool is_active = true;
  std::chrono::system_clock::time_point created_at{};
  std::chrono::system_clock::time_point updated_at{};
};
auto define_schema(SchemaTag<User>) {
  return schema<User>("users")
      .id(&User::id)
      .field(&User::first_name, "first_name", required())
      .field(&User::last_name, "last_name")
      .field(&User::email, "email", required(), matches("^[^@ ]+@[^@ ]+$"))
      .field(&User::age, "age", min(0), max(150))
      .field(&User::status, "status", one_of({"active", "suspended"}))
      .field(&User::is_active, "is_active")
      .field(&User::created_at, "created_at")
      .field(&User::updated_at, "updated_at");
}

// Seed 000 SplitNameField, as C++ steps: undo merges the names back exactly.
Migration split_names() {
  return {.version = "2023.01.006",
          .description = "Split name into first_name and last_name",
          .depends_on = {"2023.01.002"},
          .steps = {ops::split_field("users", "name", "first_name", "last_name")}};
}

// Legacy data as a v1 application wrote it through the raw driver: mixed-case emails, ages as
// strings (some not numbers), v1 field names, two people sharing an email.
int load_legacy(int argc, char** argv) {
  std::string uri, database = "mongo_orm_demo";
  for (int i = 2; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--uri") == 0) uri = argv[i + 1];
    if (std::strcmp(argv[i], "--database") == 0) database = argv[i + 1];
  }
  Client client(cli::resolve_uri(uri));
  Database db = client.database(database);
  db.drop();
  const char* people[][4] = {
      {"John Doe", "John@Example.com", "42", "2021-03-01"}, {"Jane Smith", " JANE@example.com", "35", "2021-04-11"},
      {"Ada Lovelace", "ada@example.com", "36", "2021-05-02"}, {"Cher", "cher@example.com", "unknown", "2021-06-20"},
      {"Grace Hopper", "grace@example.com", "85", "2021-07-09"}, {"Alan Turing", "ALAN@example.com", "41", "2021-08-15"},
      {"J. Doe", "john@example.com", "42", "2022-01-30"},       {"Linus Torvalds", "linus@example.com", "n/a", "2021-09-01"},
  };
  std::vector<bson::Document> documents;
  for (const auto& p : people) {
    auto when = bson::from_json(std::string(R"({"d": {"$date": ")") + p[3] + R"(T12:00:00Z"}})");
    documents.push_back(bson::Builder{}
                            .append("name", p[0])
                            .append("email", p[1])
                            .append("age", p[2])
                            .append("created_date", when["d"])
                            .append("modified_date", when["d"])
                            .extract());
  }
  for (int i = 0; i < 500; ++i) {
    std::string n = std::to_string(i);
    documents.push_back(bson::Builder{}
                            .append("name", "User " + n)
                            .append("email", "User" + n + "@Example.com")
                            .append("age", std::to_string(20 + i % 50))
                            .append("created_date", bson::DateTime(1'600'000'000'000 + i * 60'000LL))
                            .append("modified_date", bson::DateTime(1'600'000'000'000 + i * 60'000LL))
                            .extract());
  }
  db.collection("users").insert_many(documents);
  std::cout << "loaded " << documents.size() << " legacy user documents into " << database << ".users\n";
  return 0;
}

int main(int argc, char** argv) {
  try {
    if (argc >= 2 && std::strcmp(argv[1], "load-legacy") == 0) return load_legacy(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "legacy_users: " << e.what() << "\n";
    return 1;
  }
  Registry registry;
  registry.add(split_names());
  ModelSet models;
  models.add<User>("User");
  return cli::run(argc, argv, registry, models);
}
