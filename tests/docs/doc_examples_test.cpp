// Runs the examples of docs/*.md (extracted at build time) against the real server.
#include <gtest/gtest.h>

#include "support/server.hpp"

void run_doc_examples(const mongo_orm::Database& db);

namespace mongo_orm {
namespace {

class DocExamples : public testing::ServerTest {};

TEST_F(DocExamples, ModelsPageRunsAsWritten) { EXPECT_NO_THROW(run_doc_examples(db)); }

}  // namespace
}  // namespace mongo_orm
