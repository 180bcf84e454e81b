// References and populate against the real server: stored as MongoEngine's ReferenceField
// stores them (an ObjectId, or a DBRef when asked, where the server stores one), read back in
// either form, populated with one
// query per reference field (counted through the C driver's command monitoring), and a
// reference to a document that is gone reported by name, or left unpopulated when asked.
#include <gtest/gtest.h>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "mongo_orm/mongo_orm.hpp"
#include "support/command_counter.hpp"
#include "support/server.hpp"

namespace reference_app {
namespace {

using namespace mongo_orm;
using bson::from_json;
using bson::to_relaxed_json;
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

  mongo_orm::testing::CommandCounter counted(mongo_orm::testing::server_uri());
  Database database = counted.client().database(db.name());
  TypedCollection<Book> counted_books(database);
  auto query = counted_books.query().sort(model::asc(&Book::title)).populate(&Book::author).populate(&Book::reviewers);
  auto found = query.to_vector();
  ASSERT_EQ(found.size(), 60u);
  if (counted.client().capabilities().lookup_stage) {
    EXPECT_EQ(counted.count("aggregate", "ref_books"), 1) << "the books, with their authors joined by $lookup";
    EXPECT_EQ(counted.count("find", "ref_books"), 0);
    EXPECT_EQ(counted.count("find", "ref_authors"), 1) << "the reviewers (a vector) by one $in";
  } else {
    EXPECT_EQ(counted.count("find", "ref_books"), 1);
    EXPECT_EQ(counted.count("find", "ref_authors"), 2) << "one query per reference field, never one per book";
    EXPECT_TRUE(query.joining_pipeline().empty()) << "without $lookup, nothing is joined";
  }
  EXPECT_EQ(counted.on("ref_authors"), counted.count("find", "ref_authors")) << "every author in the first reply: " << counted.summary();
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
  bson::Document raw = *books.raw().find_one(bson::Builder{}.append("_id", none->id).extract());
  EXPECT_EQ(raw["author"].type(), bson::Type::null) << "stored as null, never as an empty ObjectId";
  EXPECT_FALSE(books.get_by_id(none->id)->get().author.is_set()) << "and read back as a reference to nothing";
  EXPECT_EQ(books.count(field(&Book::author) == authors_[0]->id), 1) << "only Kept";
}

// Where the server has $lookup, a query joins its single references in its own round trip; the
// documents it returns carry the joined arrays under reserved names. Reading them needs no
// $lookup: documents of that shape, built from the stored ones, fill the references as the
// server's would; the vector of reviewers is fetched by $in as on any server.
TEST_F(ReferenceTest, DocumentsJoinedByLookupFillTheirReferencesWithoutAnotherQuery) {
  Book with_editor = book("Edited", 0);
  with_editor.editor = authors_[1]->id;
  with_editor.reviewers = {authors_[2]->id};
  Tracked<Book> edited = books.insert(with_editor);
  Tracked<Book> plain = books.insert(book("Plain", 0));
  auto stored = [&](const auto& id) { return *db.collection("ref_books").find_one(bson::Builder{}.append("_id", id).extract()); };
  auto author_doc = [&](std::size_t i) { return *db.collection("ref_authors").find_one(bson::Builder{}.append("_id", authors_[i]->id).extract()); };
  // What {$lookup: {from: "ref_authors", localField: "author", foreignField: "_id", as: ...}} adds.
  auto joined = [&](const bson::Document& book_doc, std::vector<bson::Document> authors_of_book, std::vector<bson::Document> editors) {
    bson::Builder out;
    for (bson::Element e : book_doc) out.append(e.key(), e);
    out.append("__mongo_orm_populate_0", [&](bson::ArrayBuilder& a) { for (auto& d : authors_of_book) a.append(d.view()); });
    out.append("__mongo_orm_populate_1", [&](bson::ArrayBuilder& a) { for (auto& d : editors) a.append(d.view()); });
    return out.extract();
  };
  std::vector<bson::Document> documents;
  documents.push_back(joined(stored(edited->id), {author_doc(0)}, {author_doc(1)}));
  documents.push_back(joined(stored(plain->id), {author_doc(0)}, {}));

  mongo_orm::testing::CommandCounter counted(mongo_orm::testing::server_uri());
  TypedCollection<Book> counted_books(counted.client().database(db.name()));
  auto query = counted_books.query().populate(&Book::author).populate(&Book::editor).populate(&Book::reviewers);
  std::vector<Tracked<Book>> found = query.from_joined(documents);
  ASSERT_EQ(found.size(), 2u);
  EXPECT_EQ(counted.count("find", "ref_authors"), 1) << "only the reviewers (a vector) are fetched";
  EXPECT_EQ(found[0]->author->shown, "by Ada") << "joined documents are decoded as their model, after_load included";
  EXPECT_EQ(found[0]->author.get(), found[1]->author.get()) << "one copy of a shared author";
  EXPECT_EQ((*found[0]->editor)->name, "Grace");
  EXPECT_FALSE(found[1]->editor.has_value());
  EXPECT_EQ(found[0]->reviewers[0]->name, "Edsger");
  EXPECT_FALSE(found[0].stored()->contains("__mongo_orm_populate_0")) << "the joined arrays are not part of the stored document";
  found[0]->title = "Edited again";
  counted_books.save(found[0]);
  EXPECT_FALSE(stored(edited->id).contains("__mongo_orm_populate_0")) << "nor of what a save writes";

  // A reference $lookup found nothing for.
  std::vector<bson::Document> dangling;
  dangling.push_back(joined(stored(plain->id), {}, {}));
  try {
    (void)counted_books.query().populate(&Book::author).from_joined(dangling);
    FAIL() << "an author $lookup did not find was taken as populated";
  } catch (const DanglingReferenceError& e) {
    EXPECT_NE(std::string(e.what()).find("ref_books _id=ObjectId('" + plain->id.to_hex() + "'): field 'author'"), std::string::npos) << e.what();
  }
  auto left = counted_books.query().populate(&Book::author, {.dangling = Dangling::leave_unpopulated}).from_joined(dangling);
  EXPECT_FALSE(left[0]->author.is_populated());
}

// The pipeline a query sends where the server joins: the query's own $match (its class scope
// included), sort, skip and limit, then a $lookup for each single reference stored by id.
TEST_F(ReferenceTest, AJoiningQueryIsTheQueryThenOneLookupPerSingleReference) {
  if (!capabilities().lookup_stage) {
    EXPECT_TRUE(books.query().populate(&Book::author).joining_pipeline().empty());
    GTEST_SKIP() << "server lacks capability: lookup_stage (FerretDB has no $lookup); populate queries by $in, as tested";
  }
  auto query = books.query(field(&Book::title) == "A").sort(model::desc(&Book::title)).skip(1).limit(5)
                   .populate(&Book::reviewers).populate(&Book::author);
  std::vector<bson::Document> pipeline = query.joining_pipeline();
  ASSERT_EQ(pipeline.size(), 5u);
  EXPECT_EQ(to_relaxed_json(pipeline[0]), to_relaxed_json(from_json(R"({"$match": {"title": "A"}})")));
  EXPECT_EQ(to_relaxed_json(pipeline[1]), to_relaxed_json(from_json(R"({"$sort": {"title": -1}})")));
  EXPECT_EQ(to_relaxed_json(pipeline[2]), to_relaxed_json(from_json(R"({"$skip": {"$numberLong": "1"}})")));
  EXPECT_EQ(to_relaxed_json(pipeline[3]), to_relaxed_json(from_json(R"({"$limit": {"$numberLong": "5"}})")));
  EXPECT_EQ(to_relaxed_json(pipeline[4]), to_relaxed_json(from_json(
                R"({"$lookup": {"from": "ref_authors", "localField": "author", "foreignField": "_id", "as": "__mongo_orm_populate_1"}})")));
}

// A query's populate reports a reference to a document that is gone on every server: joined or
// fetched.
TEST_F(ReferenceTest, AQueryWithPopulateNamesADanglingReference) {
  Tracked<Book> orphan = books.insert(book("Orphan", 1));
  authors.remove(authors_[1]);
  EXPECT_THROW((void)books.query().populate(&Book::author).to_vector(), DanglingReferenceError);
  EXPECT_THROW((void)books.query().populate(&Book::author).one(), DanglingReferenceError);
  auto left = books.query().populate(&Book::author, {.dangling = Dangling::leave_unpopulated}).first();
  ASSERT_TRUE(left.has_value());
  EXPECT_FALSE((*left)->author.is_populated());
  EXPECT_EQ((*left)->author.id(), authors_[1]->id);
  EXPECT_EQ((*left)->id, orphan->id);
}

}  // namespace
}  // namespace reference_app
