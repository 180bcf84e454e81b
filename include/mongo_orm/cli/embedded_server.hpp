// The embedded default database: a local FerretDB managed by the mongo-orm-server script.
#pragma once

#include <string>

namespace mongo_orm::cli {

// The URI of the local embedded server, starting it first when it is not running. Finds the
// script as $MONGO_ORM_SERVER_SCRIPT, next to the running program, or on PATH. Throws Error
// with the script's own message when the server cannot be started.
std::string ensure_embedded_server();

// The URI to use: the explicit one if given, else $MONGODB_URI, else the embedded server's.
std::string resolve_uri(const std::string& explicit_uri);

}  // namespace mongo_orm::cli
