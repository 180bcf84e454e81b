// Assembling typed updates.
#include "mongo_orm/model/update.hpp"

namespace mongo_orm::model {

Update::Update(const Update& other) {
  for (const auto& [name, builder] : other.parts_) {
    parts_.emplace_back(name, bson::Builder{});
    parts_.back().second.concat(builder.view());
  }
}

Update& Update::operator=(const Update& other) {
  if (this != &other) {
    Update copy(other);
    parts_ = std::move(copy.parts_);
  }
  return *this;
}

bson::Builder& Update::operator_builder(std::string_view op) {
  for (auto& [name, builder] : parts_) {
    if (name == op) return builder;
  }
  parts_.emplace_back(std::string(op), bson::Builder{});
  return parts_.back().second;
}

bson::Document Update::document() const {
  bson::Builder update;
  for (const auto& [name, builder] : parts_) update.append(name, builder.view());
  return update.extract();
}

}  // namespace mongo_orm::model
