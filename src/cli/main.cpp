// The mongo-orm program.
#include "mongo_orm/cli/cli.hpp"

int main(int argc, char** argv) { return mongo_orm::cli::run(argc, argv); }
