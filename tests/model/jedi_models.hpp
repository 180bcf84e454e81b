// Seed 002 example 2's two application versions: v1 (Human, Jedi with dark_side) and v2
// (Human, GoodJedi, BadSith; strict), shared by the inheritance and migration tests.
#pragma once

#include "mongo_orm/mongo_orm.hpp"

namespace v1 {
using namespace mongo_orm;
struct Human {
  bson::ObjectId id;
  std::string name;
};
struct Jedi : Human {
  bool dark_side = false;
  std::string light_saber_color;
};
using Humans = model::Hierarchy<Human, Jedi>;
inline auto define_schema(model::SchemaTag<Human>) {
  return model::schema<Human>("humans").id(&Human::id).field(&Human::name, "name").inheritable<Humans>("Human");
}
inline auto define_schema(model::SchemaTag<Jedi>) {
  return model::schema_of<Human>()
      .derive<Jedi>("Jedi")
      .field(&Jedi::dark_side, "dark_side")
      .field(&Jedi::light_saber_color, "light_saber_color");
}
}  // namespace v1

namespace v2 {
using namespace mongo_orm;
struct Human {
  bson::ObjectId id;
  std::string name;
};
struct GoodJedi : Human {
  std::string light_saber_color;
};
struct BadSith : Human {
  std::string light_saber_color;
};
using Humans = model::Hierarchy<Human, GoodJedi, BadSith>;
inline auto define_schema(model::SchemaTag<Human>) {
  return model::schema<Human>("humans").id(&Human::id).field(&Human::name, "name").inheritable<Humans>("Human").strict();
}
inline auto define_schema(model::SchemaTag<GoodJedi>) {
  return model::schema_of<Human>().derive<GoodJedi>("GoodJedi").field(&GoodJedi::light_saber_color, "light_saber_color");
}
inline auto define_schema(model::SchemaTag<BadSith>) {
  return model::schema_of<Human>().derive<BadSith>("BadSith").field(&BadSith::light_saber_color, "light_saber_color");
}
}  // namespace v2
