// Tests for the encode audit (model/codec.hpp, detail::EncodeAudit) without a server: what a
// model's encoder vouches for, so that a typed insert skips libmongoc's validation and the
// payload walk, and everything it cannot vouch for, so that they run. Text is checked as it is
// encoded: invalid UTF-8 is refused there, naming the field.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "model/models.hpp"
#include "mongo_orm/model/schema.hpp"

namespace app {
namespace {

struct Reading {
  bson::ObjectId id;
  std::string label;
  double value = 0;
  std::vector<std::vector<int32_t>> grid;
  std::optional<bson::Decimal128> amount;
  std::map<std::string, int32_t> counts;
  Status status = Status::active;
};
auto define_schema(model::SchemaTag<Reading>) {
  return model::schema<Reading>("readings")
      .id(&Reading::id)
      .field(&Reading::label, "label")
      .field(&Reading::value, "value")
      .field(&Reading::grid, "grid")
      .field(&Reading::amount, "amount")
      .field(&Reading::counts, "counts")
      .field(&Reading::status, "status");
}

struct WithRaw {
  bson::ObjectId id;
  bson::Document extra;
};
auto define_schema(model::SchemaTag<WithRaw>) {
  return model::schema<WithRaw>("with_raw").id(&WithRaw::id).field(&WithRaw::extra, "extra");
}

struct WithPoint {
  bson::ObjectId id;
  Point at;
};
auto define_schema(model::SchemaTag<WithPoint>) {
  return model::schema<WithPoint>("with_point").id(&WithPoint::id).field(&WithPoint::at, "at");
}

struct Dotted {
  bson::ObjectId id;
  int32_t v = 0;
};
auto define_schema(model::SchemaTag<Dotted>) {
  return model::schema<Dotted>("dotted").id(&Dotted::id).field(&Dotted::v, "a.b");
}

template <class M>
model::detail::EncodeAudit audit_of(const M& object) {
  model::detail::EncodeAudit& audit = model::detail::encode_audit();
  audit = {};
  bson::Builder b;
  model::schema_of<M>().encode(b.native(), object);
  return audit;
}

TEST(EncodeAudit, PlainValuesAreVouchedFor) {
  Reading r;
  r.label = "plain ascii";
  r.value = 2.5;
  r.counts = {{"a", 1}};
  auto audit = audit_of(r);
  EXPECT_FALSE(audit.unchecked);
  EXPECT_FALSE(audit.unusual);
  r.label = "Zoë, naïve, 東京";  // valid UTF-8 beyond ASCII is checked by the encoder itself
  EXPECT_FALSE(audit_of(r).unchecked);
}

TEST(EncodeAudit, InvalidUtf8IsRefusedNamingTheField) {
  Reading r;
  r.label = std::string("bad \xff\xfe text");
  EXPECT_THROW(
      {
        try {
          audit_of(r);
        } catch (const InvalidRequestError& e) {
          EXPECT_NE(std::string(e.what()).find("field 'label' is not valid UTF-8"), std::string::npos) << e.what();
          throw;
        }
      },
      InvalidRequestError);
  Reading key;
  key.counts = {{std::string("k\xc3"), 1}};
  EXPECT_THROW(audit_of(key), InvalidRequestError) << "map keys are text too";
}

TEST(EncodeAudit, ValuesSomeServersCannotStoreAreLeftToThePayloadCheck) {
  Reading nan;
  nan.value = std::numeric_limits<double>::quiet_NaN();
  EXPECT_TRUE(audit_of(nan).unusual);
  Reading decimal;
  decimal.amount = bson::Decimal128::from_string("1.5");
  EXPECT_TRUE(audit_of(decimal).unusual);
  Reading nested;
  nested.grid = {{1, 2}};
  EXPECT_TRUE(audit_of(nested).unusual);
  Reading infinite;
  infinite.value = std::numeric_limits<double>::infinity();
  EXPECT_FALSE(audit_of(infinite).unusual) << "only NaN is refused among doubles";
}

TEST(EncodeAudit, RawDocumentsCodecsOfTheirOwnAndNamesThatAreNotPlainAreNotVouchedFor) {
  WithRaw raw;
  raw.extra = bson::from_json(R"({"$where": "1", "x": [[1]]})");
  auto audit = audit_of(raw);
  EXPECT_TRUE(audit.unchecked);
  EXPECT_TRUE(audit.unusual);
  auto custom = audit_of(WithPoint{});
  EXPECT_TRUE(custom.unchecked) << "a user's own codec keeps no audit";
  EXPECT_TRUE(custom.unusual);
  EXPECT_TRUE(audit_of(Dotted{}).unchecked) << "a stored name with a dot";
}

}  // namespace
}  // namespace app
