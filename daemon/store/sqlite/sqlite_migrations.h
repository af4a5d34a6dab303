// SPDX-License-Identifier: BSD-2-Clause
// The SQLite schema as an ordered list of forward migrations, versioned by PRAGMA user_version.
#pragma once

#include <sqlite3.h>

#include <string>

namespace twofactor {

// The schema version this build migrates to.
int latest_schema_version();

// Brings the database up to latest_schema_version(), one migration per transaction, so a crash
// leaves it at some whole version. Throws StoreError for a database newer than this build.
void run_migrations(sqlite3* db, const std::string& path);

}  // namespace twofactor
