// Client-side projection of top-level fields, for servers that cannot project a
// findAndModify result themselves.
#include <set>
#include <string>

#include "internal.hpp"
#include "mongo_orm/error.hpp"

namespace mongo_orm::detail {

namespace {
bool truthy(const bson::Element& e) {
  switch (e.type()) {
    case bson::Type::boolean: return e.as_bool();
    case bson::Type::int32: return e.as_int32() != 0;
    case bson::Type::int64: return e.as_int64() != 0;
    case bson::Type::double_: return e.as_double() != 0.0;
    default: return true;
  }
}
}  // namespace

bson::Document project_top_level(bson::DocumentView doc, bson::DocumentView projection,
                                 std::string_view target) {
  auto unsupported = [&](std::string_view key) {
    throw InvalidRequestError(
        std::string(target) + ": projection of '" + std::string(key) +
        "' needs the server capability find_and_modify_projection; without it only top-level "
        "inclusion or exclusion ({field: 1} or {field: 0}) can be applied");
  };
  std::set<std::string, std::less<>> included, excluded;
  bool id_included = true;
  for (bson::Element e : projection) {
    std::string_view key = e.key();
    bool numeric_or_bool = e.type() == bson::Type::boolean || e.type() == bson::Type::int32 ||
                           e.type() == bson::Type::int64 || e.type() == bson::Type::double_;
    if (key.find('.') != std::string_view::npos || key.starts_with('$') || !numeric_or_bool) {
      unsupported(key);
    }
    if (key == "_id") {
      id_included = truthy(e);
    } else if (truthy(e)) {
      included.emplace(key);
    } else {
      excluded.emplace(key);
    }
  }
  if (!included.empty() && !excluded.empty()) {
    throw InvalidRequestError(std::string(target) +
                              ": a projection cannot mix inclusion and exclusion of fields");
  }
  // {_id: 1} alone is an inclusion projection of _id only, as on the server.
  bool inclusion = !included.empty() || (excluded.empty() && projection.contains("_id") && id_included);
  bson::Builder out;
  for (bson::Element e : doc) {
    std::string_view key = e.key();
    bool keep = key == "_id" ? id_included
                : inclusion  ? included.contains(key)
                             : !excluded.contains(key);
    if (keep) out.append(key, e);
  }
  return out.extract();
}

}  // namespace mongo_orm::detail
