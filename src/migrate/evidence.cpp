// The counts a generated migration was reviewed with, counted again before it goes up.
#include "mongo_orm/migrate/evidence.hpp"

#include <cmath>
#include <cstdio>

#include "mongo_orm/bson/builder.hpp"
#include "mongo_orm/driver/collection.hpp"
#include "mongo_orm/error.hpp"

namespace mongo_orm::migrate {

namespace {

std::string percent(double fraction) {
  char text[32];
  std::snprintf(text, sizeof text, "%g%%", fraction * 100);
  return text;
}

}  // namespace

std::vector<std::string> evidence_differences(const Database& database, const Evidence& evidence) {
  std::vector<std::string> moved;
  for (const EvidenceCheck& check : evidence.checks) {
    int64_t now = database.collection(check.collection).count_documents(check.filter);
    auto allowed = static_cast<int64_t>(std::floor(evidence.tolerance * static_cast<double>(check.count)));
    if (std::llabs(now - check.count) > allowed) {
      moved.push_back(check.collection + ": " + check.what + ": " + std::to_string(check.count) + " at review, " +
                      std::to_string(now) + " now (tolerance " + percent(evidence.tolerance) + ")");
    }
  }
  return moved;
}

bson::Document to_document(const Evidence& evidence) {
  bson::Builder b;
  b.append("recorded", evidence.recorded).append("tolerance", evidence.tolerance);
  b.append("checks", [&](bson::ArrayBuilder& checks) {
    for (const EvidenceCheck& c : evidence.checks) {
      checks.append([&](bson::Builder& d) {
        d.append("collection", c.collection).append("filter", c.filter.view()).append("count", c.count).append("what", c.what);
      });
    }
  });
  return b.extract();
}

Evidence evidence_from(bson::DocumentView document, const std::string& where) {
  auto fail = [&](const std::string& what) -> MigrationError { return MigrationError(where + ": \"evidence\" " + what); };
  Evidence evidence;
  for (bson::Element e : document) {
    std::string_view key = e.key();
    if (key == "recorded" && e.type() == bson::Type::string) {
      evidence.recorded = std::string(e.as_string());
    } else if (key == "tolerance" && (e.type() == bson::Type::double_ || e.type() == bson::Type::int32)) {
      evidence.tolerance = e.type() == bson::Type::double_ ? e.as_double() : e.as_int32();
      if (!(evidence.tolerance >= 0 && evidence.tolerance <= 1)) throw fail("\"tolerance\" must be a fraction from 0 to 1");
    } else if (key == "checks" && e.type() == bson::Type::array) {
      for (bson::Element item : e.as_array()) {
        if (item.type() != bson::Type::document) throw fail("\"checks\" must be objects");
        EvidenceCheck check;
        bool collection = false, filter = false, count = false;
        for (bson::Element f : item.as_document()) {
          if (f.key() == "collection" && f.type() == bson::Type::string) {
            check.collection = std::string(f.as_string());
            collection = true;
          } else if (f.key() == "filter" && f.type() == bson::Type::document) {
            check.filter = bson::Document(f.as_document());
            filter = true;
          } else if (f.key() == "count" && (f.type() == bson::Type::int32 || f.type() == bson::Type::int64)) {
            check.count = f.type() == bson::Type::int32 ? f.as_int32() : f.as_int64();
            count = true;
          } else if (f.key() == "what" && f.type() == bson::Type::string) {
            check.what = std::string(f.as_string());
          } else {
            throw fail("check has an unknown key or a value of the wrong type: \"" + std::string(f.key()) +
                       "\" (it takes collection, filter, count, what)");
          }
        }
        if (!collection || !filter || !count) throw fail("check needs \"collection\", \"filter\" and \"count\"");
        evidence.checks.push_back(std::move(check));
      }
    } else {
      throw fail("has an unknown key or a value of the wrong type: \"" + std::string(key) +
                 "\" (it takes recorded: a string, tolerance: a number, checks: an array)");
    }
  }
  return evidence;
}

}  // namespace mongo_orm::migrate
