// Tests for autogen/analyze.hpp against the real server: exact counts by path and BSON type,
// missing and null, nested and array paths; against a model, what it declares and refuses,
// unknown _cls values and schema versions.
#include "mongo_orm/autogen/analyze.hpp"

#include <gtest/gtest.h>

#include <random>
#include <set>

#include "model/jedi_models.hpp"
#include "model/models.hpp"
#include "mongo_orm/bson/json.hpp"
#include "mongo_orm/driver/sample.hpp"
#include "support/server.hpp"

namespace mongo_orm::autogen {
namespace {

using bson::from_json;

class AnalyzeTest : public testing::ServerTest {
 protected:
  void load(const char* collection, std::initializer_list<const char*> documents) {
    std::vector<bson::Document> docs;
    for (const char* d : documents) docs.push_back(from_json(d));
    db.collection(collection).insert_many(docs);
  }
  static const PathAnalysis& at(const CollectionAnalysis& a, const std::string& path) {
    for (const auto& p : a.paths) {
      if (p.path == path) return p;
    }
    static PathAnalysis none;
    ADD_FAILURE() << "no path " << path << " in the analysis";
    return none;
  }
};

// Seed 000 "Data type conflicts": ages stored as strings, integers of both widths, doubles,
// decimals, null, garbage and not at all, each counted exactly and kept apart.
TEST_F(AnalyzeTest, CountsEveryPathByTypeMissingAndNull) {
  load("people", {R"({"_id": 1, "age": "42", "address": {"zip": "12345"}, "tags": ["a", "b"]})",
                  R"({"_id": 2, "age": 35, "address": {"zip": 12345, "city": "X"}, "tags": []})",
                  R"({"_id": 3, "age": {"$numberLong": "36"}, "address": "unknown", "items": [{"qty": 1}, {"qty": "2"}, {}]})",
                  R"({"_id": 4, "age": 36.5})",
                  R"({"_id": 5, "age": 37})",
                  R"({"_id": 6, "age": null})",
                  R"({"_id": 7, "age": "unknown"})",
                  R"({"_id": 8})"});
  bool decimals = db.client().capabilities().decimal128_values;
  if (decimals) db.collection("people").update_one(from_json(R"({"_id": 5})"), from_json(R"({"$set": {"age": {"$numberDecimal": "37"}}})"));
  std::vector<int64_t> told;
  CollectionAnalysis a = analyze(db.collection("people"), {.batch_size = 3, .progress = [&](int64_t n) { told.push_back(n); }});
  EXPECT_EQ(a.documents, 8);
  EXPECT_FALSE(a.limited);
  const PathAnalysis& age = at(a, "age");
  EXPECT_EQ(age.present, 7);
  EXPECT_EQ(age.missing, 1);
  EXPECT_EQ(age.null, 1);
  std::map<std::string, int64_t> types{{"string", 2}, {"int", 1}, {"long", 1}, {"double", 1}, {"decimal", 1}, {"null", 1}};
  if (!decimals) types = {{"string", 2}, {"int", 2}, {"long", 1}, {"double", 1}, {"null", 1}};  // 37 stayed an int
  EXPECT_EQ(age.types, types);
  EXPECT_EQ(at(a, "address").types, (std::map<std::string, int64_t>{{"object", 2}, {"string", 1}}));
  const PathAnalysis& zip = at(a, "address.zip");
  EXPECT_EQ(zip.present, 2);
  EXPECT_EQ(zip.missing, 0) << "missing counts the objects that could hold it, not every document";
  EXPECT_EQ(zip.types, (std::map<std::string, int64_t>{{"string", 1}, {"int", 1}}));
  EXPECT_EQ(at(a, "address.city").missing, 1);
  EXPECT_EQ(at(a, "tags").types, (std::map<std::string, int64_t>{{"array", 2}}));
  EXPECT_EQ(at(a, "tags[]").present, 2) << "the items of an array are counted under path[]";
  const PathAnalysis& qty = at(a, "items[].qty");
  EXPECT_EQ(qty.present, 2);
  EXPECT_EQ(qty.missing, 1) << "one of the three objects in the array has none";
  EXPECT_EQ(qty.types, (std::map<std::string, int64_t>{{"int", 1}, {"string", 1}}));
  EXPECT_EQ(told, (std::vector<int64_t>{3, 6})) << "progress every batch";
  std::vector<std::string> paths;
  for (const auto& p : a.paths) paths.push_back(p.path);
  EXPECT_TRUE(std::is_sorted(paths.begin(), paths.end()));

  CollectionAnalysis first = analyze(db.collection("people"), {.limit = 2});
  EXPECT_EQ(first.documents, 2);
  EXPECT_TRUE(first.limited);
  std::string text = to_text(first);
  EXPECT_NE(text.find("people: 2 documents, the first read only"), std::string::npos) << text;
}

// Keys that are data (one per user) would grow the counts without bound: past max_paths,
// values are counted as not counted, and memory stays that of max_paths paths.
TEST_F(AnalyzeTest, PathsPastTheLimitAreCountedAsNotCounted) {
  bson::Builder wide;
  wide.append("_id", 1);
  for (int i = 0; i < 300; ++i) wide.append("user" + std::to_string(i), i);
  db.collection("wide").insert_one(wide.extract());
  CollectionAnalysis a = analyze(db.collection("wide"), {.max_paths = 50});
  EXPECT_EQ(a.paths.size(), 50u);
  EXPECT_EQ(a.paths_not_counted, 301 - 50);
  EXPECT_NE(to_text(a).find("(251 values at further paths not counted)"), std::string::npos) << to_text(a);
}

TEST_F(AnalyzeTest, AgainstAModelDeclaredTypesRefusalsAndUnknownFields) {
  // Each valid but for what the test names (the model requires an email, address.city and a five-digit address.zip).
  load("users", {R"({"_id": {"$oid": "650000000000000000000001"}, "email": "u1@x", "name": "Ada", "age": 36, "legacy": 1, "address": {"city": "X", "zip": "12345"}})",
                 R"({"_id": {"$oid": "650000000000000000000002"}, "email": "u2@x", "name": "Bob", "age": "old", "address": {"city": "X", "zip": "12345"}})",
                 R"({"_id": {"$oid": "650000000000000000000003"}, "email": "u3@x", "name": "", "age": 200, "address": {"city": "X", "zip": "12345"}})",
                 R"({"_id": {"$oid": "650000000000000000000004"}, "email": "u4@x", "name": "Cy", "counters": {"a": 1, "b": 2, "c": "x"}, "address": {"city": "X", "zip": "12345"}})"});
  migrate::ModelSet models;
  models.add<app::User>();
  CollectionAnalysis a = analyze(db, models.entries()[0]);
  EXPECT_EQ(a.model, "users");
  EXPECT_EQ(a.documents, 4);
  EXPECT_EQ(a.refused, 3) << to_text(a);
  const PathAnalysis& age = at(a, "age");
  EXPECT_EQ(age.declared, "int");
  EXPECT_EQ(age.refused, 2) << "\"old\" does not decode, 200 breaks max(150)";
  EXPECT_EQ(at(a, "name").refused, 1) << "required";
  EXPECT_EQ(at(a, "legacy").declared, "") << "not declared by the model";
  EXPECT_EQ(at(a, "counters").declared, "map<int>");
  EXPECT_EQ(at(a, "counters.*").present, 3) << "a map's keys are data: its values are counted under one path";
  EXPECT_EQ(at(a, "counters.*").types, (std::map<std::string, int64_t>{{"int", 2}, {"string", 1}}));
  EXPECT_EQ(at(a, "counters.*").declared, "int");
  EXPECT_EQ(at(a, "counters.*").refused, 1);
  const PathAnalysis& balance = at(a, "balance");
  EXPECT_EQ(balance.present, 0) << "declared, stored nowhere";
  EXPECT_EQ(balance.missing, 4);
  bson::Document json = to_document(a);
  EXPECT_EQ(json["refused"].as_int64(), 3);
}

TEST_F(AnalyzeTest, ClassesNoModelMatchesAndSchemaVersions) {
  load("humans", {R"({"_cls": "Human", "name": "Luke"})", R"({"_cls": "Human.GoodJedi", "name": "Obi"})",
                  R"({"_cls": "Human.Jedi", "name": "Anakin", "dark_side": true})", R"({"name": "nobody"})"});
  migrate::ModelSet models;
  models.add_hierarchy<v2::Humans>();
  CollectionAnalysis a = analyze(db, models.entries()[0]);
  EXPECT_EQ(a.classes, (std::map<std::string, int64_t>{{"", 1}, {"Human", 1}, {"Human.GoodJedi", 1}, {"Human.Jedi", 1}}));
  EXPECT_EQ(a.unknown_classes, std::vector<std::string>{"Human.Jedi"});
  EXPECT_EQ(at(a, "dark_side").declared, "") << "v2 declares no dark_side";
  EXPECT_EQ(at(a, "light_saber_color").declared, "string");
  std::string text = to_text(a);
  EXPECT_NE(text.find("_cls \"Human.Jedi\" matches no class of the model"), std::string::npos) << text;
}

struct Versioned {
  bson::ObjectId id;
  std::string name;
};
auto define_schema(model::SchemaTag<Versioned>) {
  return model::schema<Versioned>("versioned")
      .id(&Versioned::id)
      .field(&Versioned::name, "name")
      .schema_version(2)
      .upgrade(1, [](bson::DocumentView d) { return bson::Document(d); });
}

TEST_F(AnalyzeTest, DocumentsBySchemaVersion) {
  load("versioned", {R"({"name": "a"})", R"({"name": "b", "_schema_version": 2})", R"({"name": "c", "_schema_version": 2})",
                     R"({"name": "d", "_schema_version": 3})"});
  migrate::ModelSet models;
  models.add<Versioned>();
  CollectionAnalysis a = analyze(db, models.entries()[0]);
  EXPECT_EQ(a.versions, (std::map<std::string, int64_t>{{"1", 1}, {"2", 2}, {"3", 1}})) << "no field: version 1";
  EXPECT_EQ(a.refused, 1) << "a version newer than the model's";
  EXPECT_EQ(at(a, "_schema_version").declared, "int");
}

// The 95% bounds of a share read off a sample are the exact (Clopper-Pearson) binomial ones,
// as statistics tables give them, one-sided when none or all of the sample had it.
TEST(ShareBounds, AreTheExactBinomialBounds) {
  EXPECT_EQ(share_bounds(0, 1000).low, 0);
  EXPECT_NEAR(share_bounds(0, 1000).high, 0.0029912, 1e-6) << "1 - 0.05^(1/1000)";
  EXPECT_NEAR(share_bounds(12, 1000).low, 0.0062155, 1e-6);
  EXPECT_NEAR(share_bounds(12, 1000).high, 0.0208677, 1e-6);
  EXPECT_NEAR(share_bounds(3, 50).low, 0.0125486, 1e-6);
  EXPECT_NEAR(share_bounds(3, 50).high, 0.1654819, 1e-6);
  EXPECT_NEAR(share_bounds(1000, 1000).low, 0.9970088, 1e-6);
  EXPECT_EQ(share_bounds(1000, 1000).high, 1);
  EXPECT_EQ(describe_share(0, 1000), "0 of 1000 sampled: at most 0.3%");
  EXPECT_EQ(describe_share(12, 1000), "12 of 1000 sampled: 0.62% to 2.1%") << "rounded outwards";
  EXPECT_EQ(describe_share(1000, 1000), "1000 of 1000 sampled: at least 99.7%");
  EXPECT_THROW(share_bounds(5, 3), InvalidRequestError);
  EXPECT_THROW(share_bounds(0, 0), InvalidRequestError);
}

// A sample is of distinct documents of the collection, exactly as many as asked; with a seed,
// the reservoir (servers without $sample) draws the same one again.
TEST_F(AnalyzeTest, ASampleHoldsDistinctDocumentsOfTheCollection) {
  std::vector<bson::Document> docs;
  for (int i = 0; i < 300; ++i) docs.push_back(bson::Builder{}.append("_id", i).append("n", i).extract());
  Collection people = db.collection("sampled_people");
  people.insert_many(docs);
  std::set<int32_t> seen;
  std::string method = sample_documents(people, {.size = 50, .seed = 11}, [&](bson::DocumentView d) {
    EXPECT_EQ(d["_id"].as_int32(), d["n"].as_int32()) << "whole documents";
    EXPECT_TRUE(seen.insert(d["_id"].as_int32()).second) << "each document once";
  });
  EXPECT_EQ(seen.size(), 50u);
  EXPECT_EQ(method, capabilities().sample_stage ? "$sample" : "uniform reservoir over _id");
  if (!capabilities().sample_stage) {
    std::set<int32_t> again;
    sample_documents(people, {.size = 50, .seed = 11}, [&](bson::DocumentView d) { again.insert(d["_id"].as_int32()); });
    EXPECT_EQ(again, seen) << "the same seed draws the same sample";
  }
  std::set<int32_t> all;
  sample_documents(people, {.size = 1000}, [&](bson::DocumentView d) { all.insert(d["_id"].as_int32()); });
  EXPECT_EQ(all.size(), 300u) << "a sample larger than the collection is the collection";
  EXPECT_THROW(sample_documents(people, {.size = 0}, [](bson::DocumentView) {}), InvalidRequestError);
}

// analyze --sample: the counts are of the sample, which the report says, with each top-level
// path's missing share and its 95% bounds; a collection no larger than the sample is read whole
// and exactly; a sample and a limit together are refused.
TEST_F(AnalyzeTest, ASampledAnalysisStatesItsSampleAndBounds) {
  std::vector<bson::Document> docs;
  for (int i = 0; i < 400; ++i) {
    bson::Builder d;
    d.append("_id", i);
    if (i % 10 != 0) d.append("age", i);  // 40 of 400 lack age
    docs.push_back(d.extract());
  }
  Collection people = db.collection("sampled_ages");
  people.insert_many(docs);
  CollectionAnalysis a = analyze(people, {.sample = 100, .seed = 3});
  EXPECT_EQ(a.documents, 100);
  EXPECT_EQ(a.sampled_from, 400);
  EXPECT_FALSE(a.sampling.empty());
  const PathAnalysis& age = at(a, "age");
  EXPECT_EQ(age.present + age.missing, 100);
  std::string text = to_text(a);
  EXPECT_NE(text.find("a uniform sample of 100 of about 400 documents (" + a.sampling + ")"), std::string::npos) << text;
  EXPECT_NE(text.find("missing in " + describe_share(age.missing, 100)), std::string::npos) << text;
  bson::Document json = to_document(a);
  EXPECT_EQ(json["sampling"].as_string(), a.sampling);
  bson::DocumentView age_json;
  for (bson::Element p : json["paths"].as_array()) {
    if (p.as_document()["path"].as_string() == "age") age_json = p.as_document();
  }
  ASSERT_TRUE(age_json.contains("missing_share_95"));
  EXPECT_NEAR(age_json["missing_share_95"].as_array()[1].as_double(), share_bounds(age.missing, 100).high, 1e-12);

  CollectionAnalysis whole = analyze(people, {.sample = 400});
  EXPECT_TRUE(whole.sampling.empty()) << "no larger than the sample: every document read";
  EXPECT_EQ(at(whole, "age").missing, 40);
  EXPECT_THROW(analyze(people, {.limit = 10, .sample = 100}), InvalidRequestError);
}

// analyze on the server: what it counts is what the client's pass counts, value for value, for
// documents of every shape (nested documents and arrays, arrays of arrays, empty ones, every
// common type), whole and limited; a document deeper than the pass opens hands the count to the
// client, which says so. Refused, naming why, with a model, with a sample, and where the server
// lacks the expressions.
TEST_F(AnalyzeTest, OnTheServerTheCountsAreTheClientsCounts) {
  Collection shapes = db.collection("shapes");
  shapes.insert_one(from_json(R"({"_id": 0, "a": 1})"));
  migrate::ModelSet models;
  models.add<app::User>();
  EXPECT_THROW(
      {
        try {
          analyze(db, models.entries()[0], {.on_server = true});
        } catch (const InvalidRequestError& e) {
          EXPECT_NE(std::string(e.what()).find("a model's checks"), std::string::npos) << e.what();
          throw;
        }
      },
      InvalidRequestError);
  EXPECT_THROW(analyze(shapes, {.sample = 10, .on_server = true}), InvalidRequestError);
  if (!capabilities().type_expressions) {
    try {
      analyze(shapes, {.on_server = true});
      ADD_FAILURE() << "analyze on the server ran without the $type and $objectToArray expressions";
    } catch (const InvalidRequestError& e) {
      EXPECT_NE(std::string(e.what()).find("type_expressions"), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find(shapes.namespace_name()), std::string::npos) << e.what();
    }
    GTEST_SKIP() << "server lacks capability: type_expressions (FerretDB has no $type or $objectToArray expression); "
                    "analyze counts in the client, as tested";
  }
  shapes.delete_many(from_json("{}"));
  std::mt19937 random(11);
  auto pick = [&](int n) { return static_cast<int>(random() % static_cast<unsigned>(n)); };
  const char* scalars[] = {"1", R"({"$numberLong": "5"})", "2.5", R"("s")", "null", "true", R"({"$date": "2020-01-01T00:00:00Z"})",
                           R"({"$oid": "64b7f0c2a1b2c3d4e5f60718"})", R"({"$numberDecimal": "1.5"})"};
  std::function<std::string(int)> value = [&](int depth) -> std::string {
    int kind = depth > 4 ? 0 : pick(10);
    if (kind < 5) return scalars[pick(9)];
    std::string out;
    int n = pick(4);
    for (int i = 0; i < n; ++i) {
      if (!out.empty()) out += ", ";
      out += kind < 8 ? std::string("\"") + "abc"[pick(3)] + "\": " + value(depth + 1) : value(depth + 1);
    }
    return kind < 8 ? "{" + out + "}" : "[" + out + "]";
  };
  std::vector<bson::Document> docs;
  for (int i = 0; i < 400; ++i) {
    std::string d = R"({"_id": )" + std::to_string(i);
    for (int n = pick(5); n > 0; --n) d += std::string(R"(, ")") + "xyz"[pick(3)] + "\": " + value(0);
    docs.push_back(from_json(d + "}"));
  }
  shapes.insert_many(docs);
  auto same = [](const CollectionAnalysis& server, const CollectionAnalysis& client) {
    EXPECT_EQ(server.documents, client.documents);
    ASSERT_EQ(server.paths.size(), client.paths.size());
    for (std::size_t i = 0; i < client.paths.size(); ++i) {
      const PathAnalysis &s = server.paths[i], &c = client.paths[i];
      EXPECT_EQ(s.path, c.path);
      EXPECT_EQ(s.present, c.present) << c.path;
      EXPECT_EQ(s.missing, c.missing) << c.path;
      EXPECT_EQ(s.null, c.null) << c.path;
      EXPECT_EQ(s.types, c.types) << c.path;
    }
  };
  CollectionAnalysis server = analyze(shapes, {.on_server = true});
  EXPECT_EQ(server.counted_by, "server");
  EXPECT_EQ(server.documents, 400);
  EXPECT_GT(server.paths.size(), 20u);
  same(server, analyze(shapes));
  EXPECT_NE(to_text(server).find("every one counted by the server"), std::string::npos) << to_text(server);
  EXPECT_EQ(to_document(server)["counted_by"].as_string(), "server");
  same(analyze(shapes, {.limit = 50, .on_server = true}), analyze(shapes, {.limit = 50}));

  std::string deep = "1";
  for (int level = 0; level < server_depth; ++level) deep = level % 2 ? "[" + deep + "]" : R"({"d": )" + deep + "}";
  shapes.insert_one(from_json(R"({"_id": "deep", "x": )" + deep + "}"));
  CollectionAnalysis handed = analyze(shapes, {.on_server = true});
  EXPECT_TRUE(handed.counted_by.starts_with("client: a document is nested deeper")) << handed.counted_by;
  EXPECT_NE(to_text(handed).find("(counted in the client: "), std::string::npos);
  same(handed, analyze(shapes));
}

}  // namespace
}  // namespace mongo_orm::autogen
