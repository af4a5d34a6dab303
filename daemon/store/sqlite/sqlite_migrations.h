// SPDX-License-Identifier: BSD-2-Clause
// The SQLite schema as an ordered list of forward migrations, versioned by PRAGMA user_version.
#pragma once

#include <sqlite3.h>

#include <string>

#include "daemon/keys/cipher.h"

namespace twofactor {

// The schema version this build migrates to.
int latest_schema_version();

// Brings the database up to latest_schema_version(), one migration per transaction, so a crash
// leaves it at some whole version. Throws StoreError for a database newer than this build, and
// KeyError when a migration that rewrites rows under the cipher finds it is not the database's.
void run_migrations(sqlite3* db, const std::string& path, const Cipher& cipher);

// Migration 7's rewrite: each recovery-code row's bare hash becomes its keyed form
// (recovery_code_mac.h), once the key is known to be the database's. Inside its transaction.
void key_stored_recovery_codes(sqlite3* db, const std::string& path, const Cipher& cipher);

}  // namespace twofactor
