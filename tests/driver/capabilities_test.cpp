// Tests for driver/capabilities.hpp: detection against the real server, and the mapping from
// hello/buildInfo replies for each kind of deployment.
#include "mongo_orm/driver/capabilities.hpp"

#include <gtest/gtest.h>

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
  EXPECT_FALSE(caps.transactions || caps.sample_stage || caps.update_pipelines ||
               caps.collection_validators || caps.partial_indexes || caps.ttl_indexes ||
               caps.sparse_indexes);
}

TEST(CapabilitiesMapping, MongoDBStandaloneHasNoTransactions) {
  auto caps = Capabilities::from_replies(from_json(R"({"maxWireVersion": 17})"),
                                         from_json(R"({"version": "6.0.5"})"));
  EXPECT_EQ(caps.kind, ServerKind::mongodb);
  EXPECT_EQ(caps.topology, Topology::standalone);
  EXPECT_FALSE(caps.transactions);
  EXPECT_TRUE(caps.sample_stage && caps.update_pipelines && caps.partial_indexes &&
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

}  // namespace
}  // namespace mongo_orm
