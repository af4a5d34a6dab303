// SPDX-License-Identifier: BSD-2-Clause
// Recovery codes: one-time codes a user keeps on paper for when the phone is lost or texts do
// not arrive. Shaped like FusionAuth's (`XXXXX-XXXXX`), drawn from an alphabet without the
// look-alikes 0/O and 1/I: 32 symbols, 5 bits each, 50 bits a code. Only a salted, slow hash of
// each code is ever stored.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/recovery_code_shape.h"
#include "common/secure.h"

namespace twofactor {

inline constexpr std::size_t kRecoveryCodeCount = 10;

// `count` fresh codes `XXXXX-XXXXX` from OpenSSL's CSPRNG; throws on RNG failure.
std::vector<SecureString> generate_recovery_codes(std::size_t count = kRecoveryCodeCount);

// 16 random bytes; throws on RNG failure.
std::string random_salt();

// PBKDF2-HMAC-SHA256 of a normalized code under `salt`: 32 bytes. Slow on purpose, so that a
// stolen database does not give the codes back by brute force.
std::string hash_recovery_code(std::string_view normalized, std::string_view salt);

}  // namespace twofactor
