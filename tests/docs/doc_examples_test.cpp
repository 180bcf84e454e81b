// Runs the examples of docs/*.md (extracted at build time) against the real server.
#include <gtest/gtest.h>

#include "support/server.hpp"

void run_models_examples(const mongo_orm::Database& db);
void run_migrations_examples(const mongo_orm::Database& db);
void run_autogenerate_examples(const mongo_orm::Database& db);
void run_async_examples(const mongo_orm::Database& db);

namespace mongo_orm {
namespace {

class DocExamples : public testing::ServerTest {};

TEST_F(DocExamples, ModelsPageRunsAsWritten) { EXPECT_NO_THROW(run_models_examples(db)); }
TEST_F(DocExamples, MigrationsPageRunsAsWritten) { EXPECT_NO_THROW(run_migrations_examples(db)); }
TEST_F(DocExamples, AutogeneratePageRunsAsWritten) { EXPECT_NO_THROW(run_autogenerate_examples(db)); }
TEST_F(DocExamples, AsyncPageRunsAsWritten) { EXPECT_NO_THROW(run_async_examples(db)); }

}  // namespace
}  // namespace mongo_orm
