// Messages of the typed collection: how a document's _id is named, a document that is gone.
#include "mongo_orm/model/typed_collection.hpp"

#include "mongo_orm/bson/json.hpp"

namespace mongo_orm::model::detail {

std::string describe_id(bson::DocumentView document) {
  auto id = document.find("_id");
  if (!id) return "(no _id)";
  switch (id->type()) {
    case bson::Type::object_id: return "ObjectId('" + id->as_object_id().to_hex() + "')";
    case bson::Type::string: return "'" + std::string(id->as_string()) + "'";
    case bson::Type::int32: return std::to_string(id->as_int32());
    case bson::Type::int64: return std::to_string(id->as_int64());
    default: {
      std::string json = bson::to_relaxed_json(bson::Builder{}.append("v", *id).extract());
      return json.substr(8, json.size() - 10);  // { "v" : X } -> X
    }
  }
}

void throw_gone(const std::string& collection, const std::string& id) {
  throw ConflictError(collection + " _id=" + id +
                      ": the stored document no longer exists (deleted since it was loaded); nothing was saved");
}

}  // namespace mongo_orm::model::detail
