// Fuzz target: arbitrary bytes decoded as BSON and as models (nested documents, arrays,
// optionals, enums, maps, a custom codec, strict models, an inheritance hierarchy). Every
// input must either decode or raise a mongo_orm::Error; anything else is a finding. Shaped as
// libFuzzer's entry point so a coverage-guided fuzzer can drive it too.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "model/models.hpp"

namespace fuzz {
using namespace mongo_orm;

struct Animal {
  int32_t id = 0;
  std::string name;
  std::optional<int64_t> age;
};
struct Dog : Animal {
  std::vector<std::string> tricks;
  std::map<std::string, double> scores;
};
struct Cat : Animal {
  app::Status mood = app::Status::active;
};
using Animals = model::Hierarchy<Animal, Dog, Cat>;
inline auto define_schema(model::SchemaTag<Animal>) {
  return model::schema<Animal>("animals")
      .id(&Animal::id)
      .field(&Animal::name, "name")
      .field(&Animal::age, "age")
      .inheritable<Animals>("Animal");
}
inline auto define_schema(model::SchemaTag<Dog>) {
  return model::schema_of<Animal>().derive<Dog>("Dog").field(&Dog::tricks, "tricks").field(&Dog::scores, "scores");
}
inline auto define_schema(model::SchemaTag<Cat>) {
  return model::schema_of<Animal>().derive<Cat>("Cat").field(&Cat::mood, "mood").strict();
}

template <class F>
void expect_only_library_errors(F&& decode) {
  try {
    decode();
  } catch (const mongo_orm::Error&) {
    // Refusing bad input with a library error is the expected outcome.
  } catch (const std::exception& e) {
    std::fprintf(stderr, "finding: unexpected exception type: %s\n", e.what());
    std::abort();
  }
}

}  // namespace fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace mongo_orm;
  if (size < 5) return 0;
  uint32_t declared = 0;
  std::memcpy(&declared, data, 4);
  if (declared != size) return 0;  // libmongoc hands over only documents whose length matches
  bson::DocumentView view(data, size);
  fuzz::expect_only_library_errors([&] { view.validate(); });
  fuzz::expect_only_library_errors([&] { (void)bson::to_canonical_json(view); });
  fuzz::expect_only_library_errors([&] { model::TypedCollection<app::User>::hydrate(view, "fuzz.users"); });
  fuzz::expect_only_library_errors([&] { model::TypedCollection<app::StrictItem>::hydrate(view, "fuzz.items"); });
  fuzz::expect_only_library_errors([&] { model::TypedCollection<fuzz::Dog>::hydrate(view, "fuzz.animals"); });
  fuzz::expect_only_library_errors(
      [&] { model::PolymorphicCollection<fuzz::Animals>::hydrate(view, "fuzz.animals"); });
  fuzz::expect_only_library_errors([&] {
    auto user = model::TypedCollection<app::User>::hydrate(view, "fuzz.users");
    model::UpdateDiff diff;
    model::schema_of<app::User>().diff(view, *user, "", diff);
    (void)diff.to_update();
  });
  return 0;
}
