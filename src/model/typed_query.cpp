// What chained queries need beside their template.
#include "mongo_orm/model/typed_query.hpp"

#include <set>

namespace mongo_orm::model::detail {

namespace {
void collect_fields(bson::DocumentView filter, std::set<std::string>& out) {
  for (bson::Element e : filter) {
    std::string_view key = e.key();
    if ((key == "$and" || key == "$or" || key == "$nor") && e.type() == bson::Type::array) {
      for (bson::Element part : e.as_array()) {
        if (part.type() == bson::Type::document) collect_fields(part.as_document(), out);
      }
    } else if (!key.starts_with("$")) {
      out.insert(printable(key));
    }
  }
}
}  // namespace

std::string filter_fields(bson::DocumentView filter) {
  std::set<std::string> fields;
  collect_fields(filter, fields);
  std::string out;
  for (const std::string& f : fields) out += (out.empty() ? "" : ", ") + f;
  return out;
}

}  // namespace mongo_orm::model::detail
