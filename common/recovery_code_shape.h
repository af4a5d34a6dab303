// SPDX-License-Identifier: BSD-2-Clause
// The shape of a recovery code (`XXXXX-XXXXX` over 32 symbols without 0/O/1/I) and the form it
// is stored in. Header-only: the PAM module tells a recovery code from a typo without linking
// anything.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "common/secure.h"

namespace twofactor {

inline constexpr std::string_view kRecoveryAlphabet = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ";
inline constexpr std::size_t kRecoveryHalfLength = 5;

// What a person typed, in the stored form (upper case, no dash or blanks: `XXXXXXXXXX`), or
// nullopt when it cannot be a recovery code. Lower case, blanks and a missing dash are forgiven.
inline std::optional<SecureString> normalize_recovery_code(std::string_view typed) {
    if (typed.size() > 4 * kRecoveryHalfLength) return std::nullopt;
    std::string normalized;
    bool dash_seen = false;
    for (char c : typed) {
        if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
        if (c == ' ' || c == '\t') continue;
        // One dash, between the halves, may be left out.
        if (c == '-' && !dash_seen && normalized.size() == kRecoveryHalfLength) {
            dash_seen = true;
            continue;
        }
        if (kRecoveryAlphabet.find(c) == std::string_view::npos) {
            wipe(normalized);
            return std::nullopt;
        }
        normalized.push_back(c);
    }
    if (normalized.size() != 2 * kRecoveryHalfLength) {
        wipe(normalized);
        return std::nullopt;
    }
    return SecureString(std::move(normalized));
}

}  // namespace twofactor
