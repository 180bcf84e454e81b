#include "mongo_orm/model/reference.hpp"

namespace mongo_orm::model::detail {

void throw_wrong_dbref_collection(std::string_view stored, std::string_view expected) {
  throw DecodeError::at({}, "a DBRef to collection '" + std::string(stored) + "' where a reference to '" + std::string(expected) +
                                "' is stored");
}

}  // namespace mongo_orm::model::detail
