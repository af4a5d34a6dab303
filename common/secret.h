// SPDX-License-Identifier: BSD-2-Clause
// Two-factor secrets: generated from OpenSSL's CSPRNG, or checked when a caller supplies one.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "common/secure.h"

namespace twofactor {

// Shortest secret a caller may supply.
inline constexpr std::size_t kMinSecretLength = 16;
// Length of a generated secret: 32 characters of a 62-letter alphabet, about 190 bits.
inline constexpr std::size_t kGeneratedSecretLength = 32;

// A fresh secret of kGeneratedSecretLength alphanumeric characters; throws on RNG failure.
SecureString generate_secret();

// nullopt if the secret is acceptable, otherwise a sentence saying why not.
std::optional<std::string> check_secret(std::string_view secret);

}  // namespace twofactor
