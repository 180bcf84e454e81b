// Tests for autogen/snapshot.hpp: the canonical snapshot of the models.
#include "mongo_orm/autogen/snapshot.hpp"
#include "mongo_orm/autogen/diff.hpp"

#include <gtest/gtest.h>

#include <sstream>

#include "model/jedi_models.hpp"
#include "model/models.hpp"
#include "mongo_orm/bson/json.hpp"

namespace logins {
// A case-insensitive unique email.
struct Login {
  mongo_orm::bson::ObjectId id;
  std::string email;
};
inline auto define_schema(mongo_orm::model::SchemaTag<Login>) {
  using namespace mongo_orm::model;
  return schema<Login>("logins")
      .id(&Login::id)
      .field(&Login::email, "email")
      .index({.unique = true, .collation = mongo_orm::bson::from_json(R"({"locale": "en", "strength": 2})")}, asc(&Login::email));
}
}  // namespace logins

namespace mongo_orm::autogen {
namespace {

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

TEST(Snapshot, IsOneCanonicalJsonDocumentWithAFieldPerLine) {
  migrate::ModelSet models;
  models.add<app::User>().add<app::Member>();
  std::string text = snapshot_text(models);
  EXPECT_EQ(text, snapshot_text(models)) << "the same models give the same text";
  bson::Document parsed = bson::from_json_strict(text);
  auto list = parsed["models"].as_array();
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[0].as_document()["model"].as_string(), "members") << "models sorted by name";
  EXPECT_EQ(list[1].as_document()["model"].as_string(), "users");
  auto fields = list[1].as_document()["fields"].as_array();
  EXPECT_EQ(fields.size(), 25u);
  std::vector<std::string> paths;
  for (const auto& f : fields) paths.emplace_back(f.as_document()["path"].as_string());
  EXPECT_TRUE(std::is_sorted(paths.begin(), paths.end())) << "fields sorted by path";
  int field_lines = 0;
  for (const auto& line : lines_of(text)) field_lines += line.find("\"path\"") != std::string::npos;
  EXPECT_EQ(field_lines, 25 + 3) << "one line per field, so that a change is one line of a diff";
  EXPECT_NE(text.find(R"({ "path" : "enabled", "type" : "bool", "default" : { "value" : true } })"), std::string::npos) << text;
}

TEST(Snapshot, AHierarchyIsOneModelPerClassWithItsChain) {
  migrate::ModelSet models;
  models.add_hierarchy<v2::Humans>();
  bson::Document parsed = bson::from_json_strict(snapshot_text(models));
  std::vector<std::string> names;
  for (const auto& m : parsed["models"].as_array()) {
    names.emplace_back(m.as_document()["model"].as_string());
    EXPECT_EQ(m.as_document()["unknown_fields"].as_string(), "strict");
    EXPECT_EQ(m.as_document()["hierarchy"].as_array().size(), 3u);
  }
  EXPECT_EQ(names, (std::vector<std::string>{"Human", "Human.BadSith", "Human.GoodJedi"}));
}

TEST(Snapshot, NoModelsIsAnErrorNeverNothingChanged) {
  migrate::ModelSet none;
  EXPECT_THROW(snapshot_text(none), ConfigurationError);
  migrate::ModelSet twice;
  twice.add<app::User>("people").add<app::Member>("people");
  EXPECT_THROW(snapshot_text(twice), ConfigurationError);
}

// An index's collation is part of the snapshot: written, read back as it was, and a changed
// collation is a changed index.
TEST(Snapshot, AnIndexCollationIsWrittenReadBackAndDiffed) {
  migrate::ModelSet models;
  models.add<logins::Login>();
  std::string text = snapshot_text(models);
  EXPECT_NE(text.find(R"("unique" : true, "collation" : { "locale" : "en", "strength" : 2 })"), std::string::npos) << text;
  std::vector<DescribedModel> read = read_snapshot(text);
  ASSERT_EQ(read.size(), 1u);
  ASSERT_EQ(read[0].description.indexes.size(), 1u);
  ASSERT_TRUE(read[0].description.indexes[0].options.collation.has_value());
  EXPECT_TRUE(diff(read, describe_models(models)).empty()) << "read back as it was written";
  read[0].description.indexes[0].options.collation = bson::from_json(R"({"locale": "en", "strength": 1})");
  std::vector<Change> changes = diff(read, describe_models(models));
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0].kind, ChangeKind::index_changed) << to_text(changes[0]);
  EXPECT_NE(changes[0].to.find("collation"), std::string::npos) << to_text(changes[0]);
}

}  // namespace
}  // namespace mongo_orm::autogen
