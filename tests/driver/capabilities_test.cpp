// Tests for driver/capabilities.hpp: detection against the real server, and the mapping from
// hello/buildInfo replies for each kind of deployment.
#include "mongo_orm/driver/capabilities.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <functional>

#include "support/server.hpp"

namespace mongo_orm {
namespace {

using bson::from_json;

TEST(CapabilitiesDetection, MatchesWhatTheServerSaysAboutItself) {
  const Client& client = testing::shared_client();
  const Capabilities& caps = client.capabilities();
  bson::Document build_info = client.run_command("admin", from_json(R"({"buildInfo": 1})"));
  EXPECT_EQ(caps.version, std::string(build_info["version"].as_string()));
  EXPECT_EQ(caps.kind == ServerKind::ferretdb, build_info.contains("ferretdbVersion"));
  EXPECT_GT(caps.max_wire_version, 0);
  EXPECT_EQ(&caps, &client.capabilities()) << "capabilities are detected once and cached";
  if (caps.kind == ServerKind::ferretdb) {
    EXPECT_FALSE(caps.ferretdb_version.empty());
    EXPECT_FALSE(caps.transactions);
    EXPECT_FALSE(caps.sample_stage);
    EXPECT_FALSE(caps.update_pipelines);
  }
}

TEST(CapabilitiesMapping, FerretDBHasNoneOfTheOptionalFeatures) {
  auto caps = Capabilities::from_replies(
      from_json(R"({"isWritablePrimary": true, "maxWireVersion": 21})"),
      from_json(R"({"version": "7.0.42", "ferretdbVersion": "v1.24.2"})"));
  EXPECT_EQ(caps.kind, ServerKind::ferretdb);
  EXPECT_EQ(caps.ferretdb_version, "v1.24.2");
  EXPECT_EQ(caps.topology, Topology::standalone);
  EXPECT_FALSE(caps.transactions || caps.sample_stage || caps.lookup_stage || caps.type_expressions || caps.update_pipelines ||
               caps.collection_validators || caps.partial_indexes || caps.ttl_indexes ||
               caps.sparse_indexes);
}

TEST(CapabilitiesMapping, MongoDBStandaloneHasNoTransactions) {
  auto caps = Capabilities::from_replies(from_json(R"({"maxWireVersion": 17})"),
                                         from_json(R"({"version": "6.0.5"})"));
  EXPECT_EQ(caps.kind, ServerKind::mongodb);
  EXPECT_EQ(caps.topology, Topology::standalone);
  EXPECT_FALSE(caps.transactions);
  EXPECT_TRUE(caps.sample_stage && caps.lookup_stage && caps.type_expressions && caps.update_pipelines && caps.partial_indexes &&
              caps.ttl_indexes && caps.collection_validators && caps.sparse_indexes);
}

TEST(CapabilitiesMapping, ReplicaSetsAndShardedClustersHaveTransactions) {
  auto rs = Capabilities::from_replies(from_json(R"({"maxWireVersion": 13, "setName": "rs0"})"),
                                       from_json(R"({"version": "5.0.0"})"));
  EXPECT_EQ(rs.topology, Topology::replica_set);
  EXPECT_TRUE(rs.transactions);
  auto sharded = Capabilities::from_replies(
      from_json(R"({"maxWireVersion": 25, "msg": "isdbgrid"})"), from_json(R"({"version": "8.0.0"})"));
  EXPECT_EQ(sharded.topology, Topology::sharded);
  EXPECT_TRUE(sharded.transactions);
  auto old_rs = Capabilities::from_replies(
      from_json(R"({"maxWireVersion": 6, "setName": "rs0"})"), from_json(R"({"version": "3.6.0"})"));
  EXPECT_FALSE(old_rs.transactions);
  EXPECT_FALSE(old_rs.update_pipelines);
}

class CapabilitiesQuestions : public testing::ServerTest {};

// Whatever the server, its answers agree with what it then does: asked yes, the feature works;
// asked no, the server refuses it. Asking writes and creates nothing. On FerretDB every answer is
// no (detection does not ask it: its gaps are known).
TEST_F(CapabilitiesQuestions, TheAnswersAgreeWithWhatTheServerThenDoes) {
  Capabilities everything = capabilities();
  everything.transactions = everything.sample_stage = everything.lookup_stage = everything.type_expressions = everything.update_pipelines =
      everything.collection_validators = true;
  everything.asked.clear();
  Capabilities answered = client().ask_capabilities(everything);
  for (auto flag : {&Capabilities::sample_stage, &Capabilities::lookup_stage, &Capabilities::type_expressions, &Capabilities::update_pipelines, &Capabilities::collection_validators,
                    &Capabilities::transactions}) {
    EXPECT_TRUE(answered.was_asked(flag));
  }
  auto names = client().list_database_names();
  EXPECT_EQ(std::find(names.begin(), names.end(), "mongo_orm_capabilities"), names.end()) << "asking created nothing";

  db.collection("items").insert_one(from_json(R"({"_id": 1, "n": 1})"));
  auto works = [](const std::function<void()>& call) {
    try {
      call();
      return true;
    } catch (const Error&) {
      return false;
    }
  };
  EXPECT_EQ(answered.sample_stage, works([&] {
              for (auto doc : db.collection("items").aggregate({from_json(R"({"$sample": {"size": 1}})")})) (void)doc;
            }));
  EXPECT_EQ(answered.lookup_stage, works([&] {
              for (auto doc : db.collection("items").aggregate({from_json(
                       R"({"$lookup": {"from": "items", "localField": "n", "foreignField": "_id", "as": "joined"}})")})) {
                (void)doc;
              }
            }));
  EXPECT_EQ(answered.type_expressions, works([&] {
              for (auto doc : db.collection("items").aggregate({from_json(
                       R"({"$project": {"fields": {"$map": {"input": {"$objectToArray": "$$ROOT"}, "as": "f", "in": {"$type": "$$f.v"}}}}})")})) {
                (void)doc;
              }
            }));
  EXPECT_EQ(answered.update_pipelines, works([&] {
              bson::Document reply = db.run_command(from_json(
                  R"({"update": "items", "updates": [{"q": {"_id": 1}, "u": [{"$set": {"m": 2}}]}]})"));
              if (auto errors = reply.find("writeErrors"); errors && !errors->as_array().empty()) throw Error("refused");
            }));
  EXPECT_EQ(answered.collection_validators,
            works([&] { db.create_collection("validated", from_json(R"({"validator": {"n": {"$exists": true}}})")); }));
  if (capabilities().kind == ServerKind::ferretdb) {
    EXPECT_FALSE(answered.transactions || answered.sample_stage || answered.lookup_stage || answered.type_expressions ||
                 answered.update_pipelines ||
                 answered.collection_validators);
    EXPECT_TRUE(capabilities().asked.empty()) << "FerretDB's known gaps are taken as they are";
  } else {
    EXPECT_EQ(answered.transactions, capabilities().transactions);
  }
}

}  // namespace
}  // namespace mongo_orm
