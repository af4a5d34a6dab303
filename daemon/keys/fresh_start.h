// SPDX-License-Identifier: BSD-2-Clause
// A key and its database belong together: a start may create both, never one for the other.
// A database that vanished while its key stayed would otherwise come back empty, and under
// nullok every user would then log in with a password alone.
#pragma once

#include <string>

namespace twofactor {

// Throws KeyError when the key exists and the database file does not (with the command that
// starts afresh deliberately: an empty database file), or when the key is missing and a
// database with content exists (a new key could not open it). `key_name` is key_name()'s.
void check_key_and_database(bool key_exists, const std::string& key_name,
                            const std::string& database);

}  // namespace twofactor
