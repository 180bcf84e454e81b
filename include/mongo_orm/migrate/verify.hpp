// Post-migration checks (seed 002 "Post-processing checks", seed 000 "Migration Script for
// PyMongo"): sample documents of each registered model, decode and validate every one through
// the model, and compare the collection's count with what the model sees.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "mongo_orm/driver/database.hpp"
#include "mongo_orm/error.hpp"
#include "mongo_orm/model/description.hpp"
#include "mongo_orm/model/schema.hpp"
#include "mongo_orm/model/typed_collection.hpp"

namespace mongo_orm::migrate {

// The models an application reads its collections with, for verify.
class ModelSet {
 public:
  struct Entry {
    std::string name;
    std::string collection;
    // Decodes and validates one stored document; throws DecodeError or ValidationError.
    std::function<void(bson::DocumentView, const std::string& namespace_name)> check;
    // How many documents of the collection the model loads (its classes, for inheritance).
    std::function<int64_t(const Database&)> visible;
    // What the model declares (each class of a hierarchy), for model snapshots.
    std::function<std::vector<model::ModelDescription>()> describe;
  };

  // A model, checked against the collection its schema names. `name` defaults to the
  // collection name (the class chain for an inheritable model).
  template <model::Model T>
  ModelSet& add(std::string name = {}) {
    const auto& schema = model::schema_of<T>();
    if (name.empty()) name = schema.is_inheritable() ? std::string(schema.class_chain()) : schema.collection();
    entries_.push_back({std::move(name), schema.collection(),
                        [](bson::DocumentView document, const std::string& ns) {
                          auto object = model::TypedCollection<T>::hydrate(document, ns);
                          throw_if_invalid(*object, document, ns);
                        },
                        [](const Database& database) { return model::TypedCollection<T>(database).count_known(); },
                        [] { return std::vector<model::ModelDescription>{model::describe<T>()}; }});
    return *this;
  }

  // A whole inheritance hierarchy (Hierarchy<Root, Derived...>): each document is loaded as the
  // class its _cls names; a _cls outside the hierarchy is a failure.
  template <class H>
  ModelSet& add_hierarchy(std::string name = {}) {
    using Root = typename H::root;
    const auto& schema = model::schema_of<Root>();
    if (name.empty()) name = std::string(schema.class_chain());
    entries_.push_back({std::move(name), schema.collection(),
                        [](bson::DocumentView document, const std::string& ns) {
                          auto object = model::PolymorphicCollection<H>::hydrate(document, ns);
                          std::visit([&](auto& tracked) { throw_if_invalid(*tracked, document, ns); }, object);
                        },
                        [](const Database& database) { return model::TypedCollection<Root>(database).count_known(); },
                        [] { return describe_hierarchy(static_cast<H*>(nullptr)); }});
    return *this;
  }

  const std::vector<Entry>& entries() const noexcept { return entries_; }
  bool empty() const noexcept { return entries_.empty(); }

 private:
  template <class... Classes>
  static std::vector<model::ModelDescription> describe_hierarchy(model::Hierarchy<Classes...>*) {
    return {model::describe<Classes>()...};
  }
  template <class T>
  static void throw_if_invalid(const T& object, bson::DocumentView, const std::string&) {
    auto failures = model::validate(object);
    if (!failures.empty()) throw ValidationError(std::move(failures));
  }

  std::vector<Entry> entries_;
};

struct VerifyOptions {
  int64_t sample_size = 1000;
  std::optional<uint64_t> seed{};  // for a repeatable sample where $sample is not used
};

// The failures of one field across the sample.
struct FieldFailures {
  std::string path;
  int64_t count = 0;
  std::string example_reason{};
  std::vector<std::string> example_ids{};  // up to three
};

struct ModelReport {
  std::string model;
  std::string collection;
  int64_t documents = 0;  // in the collection
  int64_t visible = 0;    // of them, loaded by the model
  int64_t sampled = 0;
  int64_t failed = 0;     // sampled documents that did not decode or validate
  std::string sampling{};  // "$sample", or "uniform reservoir over _id" where the server has no $sample
  std::vector<FieldFailures> fields{};

  bool ok() const noexcept { return failed == 0 && documents == visible; }
};

struct VerifyReport {
  std::vector<ModelReport> models;
  bool ok() const noexcept;
};

// Samples and checks every model of the set.
VerifyReport verify(const Database& database, const ModelSet& models, const VerifyOptions& options = {});

}  // namespace mongo_orm::migrate
