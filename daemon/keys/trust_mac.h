// SPDX-License-Identifier: BSD-2-Clause
// Trusts are stored in clear, and a trust row lets a login skip the code: whoever could write
// one with the database alone (its file, or the PostgreSQL role's password) would not need the
// code. Each row therefore carries a MAC under a key derived from the data key, over every
// field of the row; a row whose MAC does not match was not written by a daemon and is ignored.
#pragma once

#include <string>
#include <string_view>

#include "daemon/keys/cipher.h"
#include "daemon/store/store.h"

namespace twofactor {

// The MAC a trust row is stored with (32 bytes).
std::string trust_mac(const Cipher& cipher, const Trust& t);
// Whether `mac` is the trust's: every field as read back, and the key.
bool trust_mac_matches(const Cipher& cipher, const Trust& t, std::string_view mac);

}  // namespace twofactor
