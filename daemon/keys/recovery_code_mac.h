// SPDX-License-Identifier: BSD-2-Clause
// A recovery code lets whoever types it in, and its row holds only a salt and a hash: whoever
// could write a row with the database alone (its file, or the PostgreSQL role's password) could
// choose a code of their own. What a row stores is therefore not the code's PBKDF2 hash but a
// MAC over the user, the salt and that hash under a key derived from the data key: a row
// written without the key matches no code anyone types, and a genuine row copied to another
// user or salt matches none either.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "daemon/keys/cipher.h"

namespace twofactor {

// What the stores keep for a code of `user` whose PBKDF2 hash under `salt` is `hash` (32 bytes).
std::string keyed_recovery_hash(const Cipher& cipher, std::string_view user, std::string_view salt,
                                std::string_view hash);

// Before a migration rewrites rows under `cipher`: a wrong key would make every code unusable
// for good, so this throws KeyError unless the database's key check value opens (when it has
// one) or, without one, the sampled enrollment opens (`sample_opens`, nullopt for none).
void require_the_databases_key(const Cipher& cipher, const std::optional<std::string>& key_check,
                               std::optional<bool> sample_opens, const std::string& where);

}  // namespace twofactor
