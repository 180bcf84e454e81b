// Everything of mongo_orm in one include.
#pragma once

#include "mongo_orm/bson/builder.hpp"
#include "mongo_orm/bson/document.hpp"
#include "mongo_orm/bson/json.hpp"
#include "mongo_orm/bson/types.hpp"
#include "mongo_orm/driver/bulk_write.hpp"
#include "mongo_orm/driver/capabilities.hpp"
#include "mongo_orm/driver/client.hpp"
#include "mongo_orm/driver/collection.hpp"
#include "mongo_orm/driver/cursor.hpp"
#include "mongo_orm/driver/database.hpp"
#include "mongo_orm/driver/options.hpp"
#include "mongo_orm/error.hpp"
