// Capability flags learned by asking the server questions that write nothing, where its kind
// and version say less than its answers (a compatible server that calls itself MongoDB).
#include <functional>

#include "internal.hpp"
#include "mongo_orm/bson/json.hpp"
#include "mongo_orm/driver/client.hpp"
#include "mongo_orm/error.hpp"

namespace mongo_orm {

namespace {

// Where the questions are asked: a collection that is never created (none of them creates one).
constexpr const char* question_database = "mongo_orm_capabilities";
constexpr const char* question_collection = "never_created";

enum class Answer { yes, no, unknown };

// A server error is a no, but for codes listed in `yes_codes` and for being refused the right
// to ask (Unauthorized, AuthenticationFailed): then the flag keeps its assumed value. A lost
// connection also keeps it; the next operation will say what is wrong.
Answer answer(const std::function<void()>& question, std::initializer_list<int32_t> yes_codes = {}) {
  constexpr int32_t unauthorized = 13, authentication_failed = 18;
  try {
    question();
    return Answer::yes;
  } catch (const CommandError& e) {
    if (e.code() == unauthorized || e.code() == authentication_failed) return Answer::unknown;
    for (int32_t code : yes_codes) {
      if (e.code() == code) return Answer::yes;
    }
    return Answer::no;
  } catch (const ConnectionError&) {
    return Answer::unknown;
  }
}

// A read-only transaction over the missing collection, committed: a standalone refuses the read
// (IllegalOperation), FerretDB the commit (CommandNotFound), libmongoc a server it knows lacks
// them.
Answer ask_transactions(const Client& client) {
  Client::Lease lease = client.acquire();
  bson_error_t error;
  mongoc_client_session_t* session = mongoc_client_start_session(lease.get(), nullptr, &error);
  if (!session) return Answer::no;
  struct SessionEnd {
    mongoc_client_session_t* session;
    ~SessionEnd() { mongoc_client_session_destroy(session); }
  } end{session};
  if (!mongoc_client_session_start_transaction(session, nullptr, &error)) return Answer::no;
  bson::Builder opts;
  if (!mongoc_client_session_append(session, opts.native(), &error)) return Answer::no;
  detail::CollectionGuard collection(lease.get(), question_database, question_collection);
  bson_t filter = BSON_INITIALIZER;
  mongoc_cursor_t* cursor = mongoc_collection_find_with_opts(collection.get(), &filter, opts.native(), nullptr);
  const bson_t* document = nullptr;
  while (mongoc_cursor_next(cursor, &document)) {
  }
  bool read_failed = mongoc_cursor_error(cursor, &error);
  mongoc_cursor_destroy(cursor);
  if (read_failed) {
    mongoc_client_session_abort_transaction(session, nullptr);
    return error.code == 13 ? Answer::unknown : Answer::no;
  }
  bson_t reply;
  bool committed = mongoc_client_session_commit_transaction(session, &reply, &error);
  bson_destroy(&reply);
  return committed ? Answer::yes : Answer::no;
}

}  // namespace

Capabilities Client::ask_capabilities(Capabilities assumed) const {
  auto learn = [&](bool Capabilities::*flag, Answer got) {
    if (got == Answer::unknown) return;
    assumed.*flag = got == Answer::yes;
    assumed.asked.push_back(flag);
  };
  auto command = [&](std::string_view json) {
    return [this, json] { run_command(question_database, bson::from_json(json)); };
  };
  learn(&Capabilities::sample_stage,
        answer(command(R"({"aggregate": "never_created", "pipeline": [{"$sample": {"size": 1}}], "cursor": {}})")));
  learn(&Capabilities::lookup_stage,
        answer(command(R"({"aggregate": "never_created", "pipeline": [{"$lookup": {"from": "never_created",
          "localField": "a", "foreignField": "_id", "as": "b"}}], "cursor": {}})")));
  // The expressions analyze's server-side pass is built of, each named once.
  learn(&Capabilities::type_expressions,
        answer(command(R"({"aggregate": "never_created", "pipeline": [{"$replaceRoot": {"newRoot": {"x": {"$let": {
          "vars": {"o": {"$objectToArray": "$$ROOT"}}, "in": {"$switch": {"branches": [{"case": {"$isArray": "$$o"},
          "then": {"$filter": {"input": {"$map": {"input": "$$o", "as": "f", "in": {"$type": "$$f.v"}}}, "as": "t",
          "cond": {"$ne": ["$$t", "missing"]}}}}], "default": {"$concatArrays": [[], []]}}}}}}}}], "cursor": {}})")));
  learn(&Capabilities::update_pipelines, answer([this] {
          bson::Document reply = run_command(
              question_database, bson::from_json(R"({"update": "never_created", "updates": [{"q": {"_id": "question"},
                "u": [{"$set": {"asked": true}}], "upsert": false}]})"));
          // An update reports a refused statement in writeErrors, with ok: 1.
          if (auto errors = reply.find("writeErrors"); errors && !errors->as_array().empty()) {
            throw CommandError("update pipelines refused", 0, "", {}, reply);
          }
        }));
  constexpr int32_t namespace_not_found = 26;  // MongoDB's answer: it would modify it, were it there
  learn(&Capabilities::collection_validators,
        answer(command(R"({"collMod": "never_created", "validator": {}})"), {namespace_not_found}));
  if (assumed.transactions) learn(&Capabilities::transactions, ask_transactions(*this));
  return assumed;
}

}  // namespace mongo_orm
