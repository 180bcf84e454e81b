// References and populate against the real server: stored as MongoEngine's ReferenceField
// stores them (an ObjectId, or a DBRef when asked, where the server stores one), read back in
// either form, populated with one
// query per reference field (counted through the C driver's command monitoring), and a
// reference to a document that is gone reported by name, or left unpopulated when asked.
#include <gtest/gtest.h>
#include <mongoc/mongoc.h>

#include <atomic>
#include <cstring>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "mongo_orm/mongo_orm.hpp"
#include "support/server.hpp"

namespace reference_app {
namespace {

using namespace mongo_orm;
using model::Dangling;
using model::field;
using model::Ref;
using model::RefStorage;
using model::Tracked;
using model::TypedCollection;

struct Author {
  bson::ObjectId id;
  std::string name;
  std::string shown;  // not stored: set by after_load
};
auto define_schema(model::SchemaTag<Author>) {
  return model::schema<Author>("ref_authors").id(&Author::id).field(&Author::name, "name").after_load([](Author& a) {
    a.shown = "by " + a.name;
  });
}

struct Book {
  bson::ObjectId id;
  std::string title;
  Ref<Author> author;
  std::optional<Ref<Author>> editor;
  std::vector<Ref<Author>> reviewers;
};
auto define_schema(model::SchemaTag<Book>) {
  return model::schema<Book>("ref_books")
      .id(&Book::id)
      .field(&Book::title, "title")
      .field(&Book::author, "author")
      .field(&Book::editor, "editor")
      .field(&Book::reviewers, "reviewers");
}

// MongoEngine's ReferenceField(dbref=True).
struct Letter {
  bson::ObjectId id;
  Ref<Author, bson::ObjectId, RefStorage::dbref> sender;
};
auto define_schema(model::SchemaTag<Letter>) {
  return model::schema<Letter>("ref_letters").id(&Letter::id).field(&Letter::sender, "sender");
}

// Counts the find commands sent to one collection, through libmongoc's command monitoring on a
// pool of the test's own.
class CountedClient {
 public:
  explicit CountedClient(std::string collection) : collection_(std::move(collection)) {
    bson_error_t error;
    uri_ = mongoc_uri_new_with_error(mongo_orm::testing::server_uri().c_str(), &error);
    pool_ = mongoc_client_pool_new(uri_);
    mongoc_apm_callbacks_t* callbacks = mongoc_apm_callbacks_new();
    mongoc_apm_set_command_started_cb(callbacks, &CountedClient::started);
    mongoc_client_pool_set_apm_callbacks(pool_, callbacks, this);
    mongoc_apm_callbacks_destroy(callbacks);
    client_.emplace(Client::wrap(pool_));
  }
  ~CountedClient() {
    client_.reset();
    mongoc_client_pool_destroy(pool_);
    mongoc_uri_destroy(uri_);
  }
  const Client& client() const { return *client_; }
  int finds() const { return finds_.load(); }

 private:
  static void started(const mongoc_apm_command_started_t* event) {
    auto* self = static_cast<CountedClient*>(mongoc_apm_command_started_get_context(event));
    if (std::strcmp(mongoc_apm_command_started_get_command_name(event), "find") != 0) return;
    bson_iter_t it;
    if (bson_iter_init_find(&it, mongoc_apm_command_started_get_command(event), "find") && BSON_ITER_HOLDS_UTF8(&it) &&
        self->collection_ == bson_iter_utf8(&it, nullptr)) {
      ++self->finds_;
    }
  }
  std::string collection_;
  mongoc_uri_t* uri_ = nullptr;
  mongoc_client_pool_t* pool_ = nullptr;
  std::optional<Client> client_;
  std::atomic<int> finds_{0};
};

class ReferenceTest : public mongo_orm::testing::ServerTest {
 protected:
  void SetUp() override {
    for (const char* name : {"Ada", "Grace", "Edsger"}) {
      Author a;
      a.name = name;
      authors_.push_back(authors.insert(a));
    }
  }
  Book book(const std::string& title, std::size_t author) {
    Book b;
    b.title = title;
    b.author = *authors_[author];  // from the object, or its id
    return b;
  }

  TypedCollection<Author> authors{db};
  TypedCollection<Book> books{db};
  TypedCollection<Letter> letters{db};
  std::vector<Tracked<Author>> authors_;
};

TEST_F(ReferenceTest, StoredAsMongoEngineStoresThemTheReferencedId) {
  Book b = book("Notes", 0);
  b.editor = authors_[1]->id;
  Tracked<Book> stored = books.insert(b);
  bson::Document raw = *books.raw().find_one(bson::Builder{}.append("_id", stored->id).extract());
  EXPECT_EQ(raw["author"].type(), bson::Type::object_id);
  EXPECT_EQ(raw["author"].as_object_id(), authors_[0]->id);
  EXPECT_EQ(raw["editor"].as_object_id(), authors_[1]->id);
  Tracked<Book> loaded = *books.get_by_id(stored->id);
  EXPECT_EQ(loaded->author.id(), authors_[0]->id);
  EXPECT_FALSE(loaded->author.is_populated());
  EXPECT_EQ((*loaded->editor).id(), authors_[1]->id);
  // Queries compare references by id.
  EXPECT_EQ(books.count(field(&Book::author) == authors_[0]->id), 1);
  EXPECT_EQ(books.count(field(&Book::author) == authors_[1]->id), 0);
  // A changed reference is saved as its id.
  loaded->author = authors_[2]->id;
  books.save(loaded);
  EXPECT_EQ((*books.raw().find_one(bson::Builder{}.append("_id", stored->id).extract()))["author"].as_object_id(), authors_[2]->id);
}

TEST_F(ReferenceTest, ADbRefIsStoredAsMongoEngineStoresItWithDbRefTrue) {
  Letter letter;
  letter.sender = authors_[0]->id;
  if (!capabilities().dbref_values) {
    try {
      letters.insert(letter);
      FAIL() << "a DBRef was sent to a server that refuses it";
    } catch (const InvalidRequestError& e) {
      EXPECT_NE(std::string(e.what()).find("field 'sender' holds a DBRef"), std::string::npos) << e.what();
    }
    EXPECT_EQ(letters.raw().count_documents({}), 0);
    GTEST_SKIP() << "server lacks capability: dbref_values (FerretDB refuses keys starting with '$'); refused before sending, as checked";
  }
  Tracked<Letter> stored = letters.insert(letter);
  bson::Document raw = *letters.raw().find_one(bson::Builder{}.append("_id", stored->id).extract());
  bson::DocumentView dbref = raw["sender"].as_document();
  EXPECT_EQ(dbref["$ref"].as_string(), "ref_authors");
  EXPECT_EQ(dbref["$id"].as_object_id(), authors_[0]->id);
  Tracked<Letter> loaded = *letters.get_by_id(stored->id);
  letters.populate(loaded, &Letter::sender);
  EXPECT_EQ(loaded->sender->name, "Ada");
}

// Decoding needs no server: a document as another tool wrote it.
TEST(References, EitherStoredFormIsReadAndADbRefToAnotherCollectionIsRefused) {
  bson::ObjectId ada = bson::ObjectId::generate();
  bson::Document as_dbref = bson::Builder{}
                                .append("_id", bson::ObjectId::generate())
                                .append("title", "Imported")
                                .append("author", [&](bson::Builder& r) { r.append("$ref", "ref_authors").append("$id", ada); })
                                .extract();
  Tracked<Book> imported = TypedCollection<Book>::hydrate(as_dbref, "db.ref_books");
  EXPECT_EQ(imported->author.id(), ada) << "a reference by id reads a DBRef too";
  EXPECT_FALSE(imported->editor.has_value());

  bson::Document as_id = bson::Builder{}.append("_id", bson::ObjectId::generate()).append("sender", ada).extract();
  EXPECT_EQ(TypedCollection<Letter>::hydrate(as_id, "db.ref_letters")->sender.id(), ada) << "a DBRef reference reads a bare id";

  bson::Builder letter;
  model::Codec<Letter>::encode(letter.native(), "letter", *TypedCollection<Letter>::hydrate(as_id, "db.ref_letters"));
  bson::Document encoded = letter.extract();
  bson::DocumentView sender = encoded["letter"].as_document()["sender"].as_document();
  EXPECT_EQ(sender["$ref"].as_string(), "ref_authors");
  EXPECT_EQ(sender["$id"].as_object_id(), ada);

  bson::ObjectId elsewhere_id = bson::ObjectId::generate();
  bson::Document elsewhere = bson::Builder{}
                                 .append("_id", elsewhere_id)
                                 .append("author", [&](bson::Builder& r) { r.append("$ref", "publishers").append("$id", ada); })
                                 .extract();
  try {
    TypedCollection<Book>::hydrate(elsewhere, "db.ref_books");
    FAIL() << "a DBRef to publishers read as a reference to ref_authors";
  } catch (const DecodeError& e) {
    EXPECT_EQ(std::string(e.what()).find("db.ref_books _id=ObjectId('" + elsewhere_id.to_hex() + "'): field 'author'"), 0u) << e.what();
    EXPECT_NE(std::string(e.what()).find("'publishers'"), std::string::npos) << e.what();
  }
  bson::Document not_a_dbref = bson::Builder{}.append("_id", bson::ObjectId::generate()).append("author", [&](bson::Builder& r) { r.append("id", ada); }).extract();
  EXPECT_THROW(TypedCollection<Book>::hydrate(not_a_dbref, "db.ref_books"), DecodeError);
}

TEST_F(ReferenceTest, PopulateFetchesEveryReferencedDocumentOfAFieldWithOneQuery) {
  std::vector<Book> many;
  for (int i = 0; i < 60; ++i) {
    Book b = book("Book " + std::to_string(i), static_cast<std::size_t>(i % 3));
    b.reviewers = {authors_[(i + 1) % 3]->id, authors_[(i + 2) % 3]->id};
    many.push_back(b);
  }
  books.insert_many(many);

  CountedClient counted("ref_authors");
  Database database = counted.client().database(db.name());
  TypedCollection<Book> counted_books(database);
  auto found = counted_books.query().sort(model::asc(&Book::title)).populate(&Book::author).populate(&Book::reviewers).to_vector();
  ASSERT_EQ(found.size(), 60u);
  EXPECT_EQ(counted.finds(), 2) << "one query per reference field, never one per book";
  for (auto& b : found) {
    ASSERT_TRUE(b->author.is_populated());
    EXPECT_EQ(b->author.id(), b->author->id);
    EXPECT_EQ(b->author->shown, "by " + b->author->name) << "the referenced model's after_load ran";
    ASSERT_EQ(b->reviewers.size(), 2u);
    EXPECT_TRUE(b->reviewers[0].is_populated() && b->reviewers[1].is_populated());
  }
  std::map<bson::ObjectId, const Author*> copies;
  for (auto& b : found) {
    auto [it, first] = copies.try_emplace(b->author.id(), b->author.get());
    EXPECT_EQ(it->second, b->author.get()) << "books of one author share one copy of it";
  }
  EXPECT_EQ(copies.size(), 3u);

  // A loaded object, and a field holding an optional reference.
  Tracked<Book> single = *books.find_one(field(&Book::title) == "Book 7");
  single->editor = authors_[2]->id;
  books.save(single);
  books.populate(single, &Book::editor);
  EXPECT_EQ((*single->editor)->name, "Edsger");
  EXPECT_FALSE(single->author.is_populated()) << "only the fields asked for";
  EXPECT_FALSE(single->reviewers[0].is_populated());
  // first() and one() populate too; a streamed read of a query with populate is refused.
  EXPECT_EQ(books.query(field(&Book::title) == "Book 2").populate(&Book::author).one()->author->name, "Edsger");
  EXPECT_EQ(books.query().sort(model::asc(&Book::title)).populate(&Book::author).first()->get().author->name, "Ada");
  EXPECT_THROW(books.query().populate(&Book::author).cursor(), InvalidRequestError);
}

TEST_F(ReferenceTest, ADanglingReferenceIsNamedOrLeftUnpopulatedWhenAsked) {
  Tracked<Book> kept = books.insert(book("Kept", 0));
  Tracked<Book> orphan = books.insert(book("Orphan", 1));
  authors.remove(authors_[1]);

  std::vector<Tracked<Book>> both = books.query().sort(model::asc(&Book::title)).to_vector();
  try {
    books.populate(both, &Book::author);
    FAIL() << "a reference to a deleted author was populated";
  } catch (const DanglingReferenceError& e) {
    std::string expected = db.name() + ".ref_books _id=ObjectId('" + orphan->id.to_hex() + "'): field 'author' refers to " +
                           db.name() + ".ref_authors _id=ObjectId('" + authors_[1]->id.to_hex() + "'), which does not exist";
    EXPECT_EQ(std::string(e.what()).find(expected), 0u) << e.what();
  }
  EXPECT_FALSE(both[0]->author.is_populated()) << "nothing is attached when populate raises";

  books.populate(both, &Book::author, {.dangling = Dangling::leave_unpopulated});
  EXPECT_EQ(both[0]->author->name, "Ada");
  EXPECT_FALSE(both[1]->author.is_populated());
  EXPECT_EQ(both[1]->author.id(), authors_[1]->id) << "the id is kept";
  EXPECT_THROW((void)both[1]->author->name, InvalidRequestError);
  EXPECT_EQ(both[1]->author.get(), nullptr);

  // An unset reference (no id) is not dangling: it is not looked up.
  Book empty;
  empty.title = "No author";
  Tracked<Book> none = books.insert(empty);
  EXPECT_FALSE(none->author.is_set());
  books.populate(none, &Book::author);
  EXPECT_FALSE(none->author.is_populated());
}

}  // namespace
}  // namespace reference_app
