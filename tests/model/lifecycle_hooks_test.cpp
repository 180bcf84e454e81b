// Lifecycle hooks declared with the schema, against the real server: a before hook that throws
// writes nothing, what a before hook changes is validated and written, save hooks see the changed
// paths, after_load runs on every read path, server-side bulk writes run no hook, and a subclass
// runs its base class's hooks first.
#include <gtest/gtest.h>

#include <cctype>
#include <stdexcept>
#include <string>
#include <vector>

#include "mongo_orm/mongo_orm.hpp"
#include "support/server.hpp"

namespace hooks_app {
namespace {

using namespace mongo_orm;
using model::Changes;
using model::field;
using model::Tracked;
using model::TypedCollection;

std::vector<std::string>& journal() {
  static std::vector<std::string> entries;
  return entries;
}
std::string slugify(const std::string& title) {
  std::string slug;
  for (char c : title) slug += c == ' ' ? '-' : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return slug;
}
std::string joined(const std::vector<std::string>& paths) {
  std::string out;
  for (const std::string& p : paths) out += (out.empty() ? "" : ",") + p;
  return out;
}

struct Article {
  bson::ObjectId id;
  std::string title;
  std::string slug;
  int32_t edits = 0;
  std::string display;  // not stored: computed by after_load
};
// Defined after define_schema: a hook body that names fields with field(&Article::…) needs the
// schema complete (inside define_schema, name them by stored name: touches("title")).
void retitle(Article& a, const Changes& changes);
auto define_schema(model::SchemaTag<Article>) {
  return model::schema<Article>("hooked_articles")
      .id(&Article::id)
      .field(&Article::title, "title", model::required(), model::max_length(20))
      .field(&Article::slug, "slug")
      .field(&Article::edits, "edits")
      .before_insert([](Article& a) {
        journal().push_back("before_insert " + a.title);
        if (a.title.starts_with("refuse")) throw std::runtime_error("insert refused by a hook");
        a.slug = slugify(a.title);
      })
      .after_insert([](const Article& a) { journal().push_back("after_insert " + a.slug); })
      .before_save(retitle)
      .after_save([](const Article&, const Changes& changes) { journal().push_back("after_save " + joined(changes.paths())); })
      .before_delete([](const Article& a) {
        journal().push_back("before_delete " + a.slug);
        if (a.slug == "keep-me") throw std::runtime_error("delete refused by a hook");
      })
      .after_delete([](const Article& a) { journal().push_back("after_delete " + a.slug); })
      .after_load([](Article& a) {
        a.display = a.title + " (" + std::to_string(a.edits) + " edits)";
        journal().push_back("after_load " + a.slug);
      });
}

void retitle(Article& a, const Changes& changes) {
  journal().push_back("before_save " + joined(changes.paths()));
  if (a.title.starts_with("refuse")) throw std::runtime_error("save refused by a hook");
  if (changes.touches(field(&Article::title))) {
    a.slug = slugify(a.title);
    ++a.edits;
  }
}

// A smaller view of the same documents, with a hook of its own.
struct ArticleTitle {
  std::string title;
};
auto define_schema(model::SchemaTag<ArticleTitle>) {
  return model::schema<ArticleTitle>("hooked_articles").field(&ArticleTitle::title, "title").after_load([](ArticleTitle& t) {
    journal().push_back("title after_load " + t.title);
  });
}

// A hierarchy: the subclass runs the base class's hooks, then its own.
struct Post {
  bson::ObjectId id;
  std::string text;
};
struct Poll : Post {
  int32_t options = 0;
};
using Posts = model::Hierarchy<Post, Poll>;
auto define_schema(model::SchemaTag<Post>) {
  return model::schema<Post>("hooked_posts")
      .id(&Post::id)
      .field(&Post::text, "text")
      .inheritable<Posts>("Post")
      .before_insert([](Post& p) { journal().push_back("post before_insert " + p.text); })
      .after_load([](Post& p) { journal().push_back("post after_load " + p.text); });
}
auto define_schema(model::SchemaTag<Poll>) {
  return model::schema_of<Post>()
      .derive<Poll>("Poll")
      .field(&Poll::options, "options")
      .before_insert([](Poll& p) {
        journal().push_back("poll before_insert " + p.text);
        if (p.options == 0) p.options = 2;
      });
}

class LifecycleHooksTest : public mongo_orm::testing::ServerTest {
 protected:
  void SetUp() override { journal().clear(); }
  int64_t stored() const { return articles.raw().count_documents({}); }
  Tracked<Article> insert(const std::string& title) {
    Article a;
    a.title = title;
    Tracked<Article> tracked = articles.insert(a);
    journal().clear();
    return tracked;
  }
  bson::Document stored_document(const Tracked<Article>& a) const {
    return *articles.raw().find_one(bson::Builder{}.append("_id", a->id).extract());
  }

  TypedCollection<Article> articles{db};
};

TEST_F(LifecycleHooksTest, InsertRunsTheBeforeHookThenValidatesThenWritesThenRunsTheAfterHook) {
  Article a;
  a.title = "Hello World";
  Tracked<Article> hello = articles.insert(a);
  EXPECT_EQ(journal(), (std::vector<std::string>{"before_insert Hello World", "after_insert hello-world"}));
  EXPECT_EQ(stored_document(hello)["slug"].as_string(), "hello-world") << "what the before hook set is written";

  // A before hook that throws stops the insert: nothing is written, no after hook runs.
  journal().clear();
  a.title = "refuse this one";
  EXPECT_THROW(articles.insert(a), std::runtime_error);
  EXPECT_EQ(journal(), (std::vector<std::string>{"before_insert refuse this one"}));
  EXPECT_EQ(stored(), 1);

  // Validation runs after the before hook: an invalid object is refused once the hook has run.
  journal().clear();
  a.title = "a title far too long for the rule";
  EXPECT_THROW(articles.insert(a), ValidationError);
  EXPECT_EQ(journal(), (std::vector<std::string>{"before_insert a title far too long for the rule"}));
  EXPECT_EQ(stored(), 1);

  // save of a new object is an insert, with the insert hooks.
  journal().clear();
  Article fresh;
  fresh.title = "Saved New";
  Tracked<Article> saved(fresh);
  articles.save(saved);
  EXPECT_EQ(journal(), (std::vector<std::string>{"before_insert Saved New", "after_insert saved-new"}));
}

TEST_F(LifecycleHooksTest, InsertManyRunsEveryBeforeHookFirstAndWritesNothingWhenOneThrows) {
  std::vector<Article> batch(3);
  batch[0].title = "One";
  batch[1].title = "refuse Two";
  batch[2].title = "Three";
  EXPECT_THROW(articles.insert_many(batch), std::runtime_error);
  EXPECT_EQ(stored(), 0) << "the hook of the second object stopped the whole batch";
  EXPECT_EQ(journal(), (std::vector<std::string>{"before_insert One", "before_insert refuse Two"}));

  journal().clear();
  batch[1].title = "Two";
  auto inserted = articles.insert_many(batch);
  EXPECT_EQ(stored(), 3);
  EXPECT_EQ(journal(), (std::vector<std::string>{"before_insert One", "before_insert Two", "before_insert Three",
                                                 "after_insert one", "after_insert two", "after_insert three"}));
  EXPECT_EQ(inserted[1]->slug, "two");
}

TEST_F(LifecycleHooksTest, SaveHooksSeeTheChangedPathsAndWhatTheBeforeHookChangesIsWrittenInTheSameUpdate) {
  Tracked<Article> article = insert("First Title");
  Tracked<Article> loaded = *articles.get_by_id(article->id);
  EXPECT_EQ(journal(), (std::vector<std::string>{"after_load first-title"}));
  journal().clear();

  articles.save(loaded);
  EXPECT_TRUE(journal().empty()) << "a save that changes nothing writes nothing and runs no hook";

  loaded->title = "Second Title";
  articles.save(loaded);
  EXPECT_EQ(journal(), (std::vector<std::string>{"before_save title", "after_save title,slug,edits"}));
  bson::Document after = stored_document(loaded);
  EXPECT_EQ(after["title"].as_string(), "Second Title");
  EXPECT_EQ(after["slug"].as_string(), "second-title");
  EXPECT_EQ(after["edits"].as_int32(), 1);

  // A change that does not touch the title: the hook sees only it.
  journal().clear();
  loaded->edits = 10;
  articles.save(loaded);
  EXPECT_EQ(journal(), (std::vector<std::string>{"before_save edits", "after_save edits"}));
}

TEST_F(LifecycleHooksTest, ABeforeSaveHookThatThrowsWritesNothingAndTheObjectStaysChanged) {
  Tracked<Article> article = insert("Kept Title");
  article->title = "refuse me";
  EXPECT_THROW(articles.save(article), std::runtime_error);
  EXPECT_EQ(journal(), (std::vector<std::string>{"before_save title"}));
  EXPECT_EQ(stored_document(article)["title"].as_string(), "Kept Title");

  // The change stays pending on the object: once fixed, the next save writes it.
  journal().clear();
  article->title = "Long";
  articles.save(article);
  EXPECT_EQ(stored_document(article)["title"].as_string(), "Long") << "the change is still pending and saved";
  EXPECT_EQ(stored_document(article)["slug"].as_string(), "long");
}

TEST_F(LifecycleHooksTest, DeleteHooksRunAroundRemoveAndABeforeHookThatThrowsKeepsTheDocument) {
  Tracked<Article> keep = insert("Keep Me");
  EXPECT_THROW(articles.remove(keep), std::runtime_error);
  EXPECT_EQ(stored(), 1);
  EXPECT_TRUE(keep.is_stored());
  EXPECT_EQ(journal(), (std::vector<std::string>{"before_delete keep-me"}));

  Tracked<Article> gone = insert("Gone Soon");
  EXPECT_TRUE(articles.remove(gone));
  EXPECT_EQ(journal(), (std::vector<std::string>{"before_delete gone-soon", "after_delete gone-soon"}));
  journal().clear();
  EXPECT_FALSE(articles.remove(gone));
  EXPECT_TRUE(journal().empty()) << "an object not stored is not deleted, and no hook runs";
}

TEST_F(LifecycleHooksTest, AfterLoadRunsOnEveryReadPath) {
  Tracked<Article> article = insert("Read Me");
  EXPECT_EQ(articles.get_by_id(article->id)->get().display, "Read Me (0 edits)");
  EXPECT_EQ(articles.find_one(field(&Article::slug) == "read-me")->get().display, "Read Me (0 edits)");
  for (auto& found : articles.find()) EXPECT_EQ(found->display, "Read Me (0 edits)");
  EXPECT_EQ(articles.query(field(&Article::edits) == 0).first()->get().display, "Read Me (0 edits)");
  auto updated = articles.find_one_and_update(field(&Article::slug) == "read-me", model::Update().inc(field(&Article::edits), 2),
                                              {.return_document = ReturnDocument::after});
  EXPECT_EQ(updated->get().display, "Read Me (2 edits)");
  EXPECT_EQ(journal().size(), 5u);
  journal().clear();
  for (const ArticleTitle& t : articles.find_as<ArticleTitle>()) EXPECT_EQ(t.title, "Read Me");
  EXPECT_EQ(journal(), (std::vector<std::string>{"title after_load Read Me"})) << "a projection runs its own model's hooks";
}

TEST_F(LifecycleHooksTest, ServerSideBulkWritesRunNoHook) {
  insert("Bulk One");
  insert("Bulk Two");
  articles.update_many(field(&Article::edits) == 0, model::Update().set(field(&Article::title), "Renamed"));
  articles.update_one(field(&Article::slug) == "bulk-one", model::Update().inc(field(&Article::edits), 1));
  EXPECT_EQ(articles.delete_many(field(&Article::slug) == "bulk-two").deleted_count, 1);
  EXPECT_TRUE(journal().empty()) << "update_many, update_one and delete_many run on the server, with no object";
  EXPECT_EQ(stored_document(*articles.find_one())["slug"].as_string(), "bulk-one") << "no before_save recomputed the slug";
}

TEST_F(LifecycleHooksTest, ASubclassRunsItsBaseClassHooksFirst) {
  TypedCollection<Poll> polls{db};
  Poll poll;
  poll.text = "Tabs?";
  Tracked<Poll> inserted = polls.insert(poll);
  EXPECT_EQ(journal(), (std::vector<std::string>{"post before_insert Tabs?", "poll before_insert Tabs?"}));
  EXPECT_EQ(inserted->options, 2);
  journal().clear();
  EXPECT_EQ(polls.get_by_id(inserted->id)->get().options, 2);
  EXPECT_EQ(journal(), (std::vector<std::string>{"post after_load Tabs?"}));
}

TEST(LifecycleHooks, AnEmptyHookIsRefusedWhenTheSchemaIsDeclared) {
  EXPECT_THROW(model::schema<Article>("x").after_load({}), ConfigurationError);
}

TEST(LifecycleHooks, ChangesTouchAFieldWhenItOrAnythingInsideItChanges) {
  Changes changes({"address.city", "age"});
  EXPECT_TRUE(changes.touches("address"));
  EXPECT_TRUE(changes.touches("address.city"));
  EXPECT_TRUE(changes.touches("age"));
  EXPECT_FALSE(changes.touches("address.zip"));
  EXPECT_FALSE(changes.touches("ag"));
  EXPECT_FALSE(changes.touches("agent"));
  Changes whole({"address"});
  EXPECT_TRUE(whole.touches("address.zip")) << "the whole sub-document was set";
}

}  // namespace
}  // namespace hooks_app
