// SPDX-License-Identifier: BSD-2-Clause
// What both backends share about a row: how secrets and phone numbers are sealed (the column and
// the user name as associated data), how steps are checked, how challenges are named.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "daemon/keys/cipher.h"
#include "daemon/store/store.h"

namespace twofactor::sealing {

// A sealed enrollment as both backends store it; `phone` is empty for no phone (NULL).
struct SealedEnrollment {
    std::string secret;
    std::string phone;
};

// Checks the enrollment (TextMessage needs a phone) and seals its secret and phone.
SealedEnrollment seal(const Cipher& cipher, const Enrollment& e);

// Opens a row read back; throws StoreError when a blob does not decrypt (wrong key, a blob moved
// to another user or column) or the delivery is unknown.
Enrollment open(const Cipher& cipher, const std::string& user, std::string_view secret,
                std::optional<std::string_view> phone, std::string_view delivery,
                std::int64_t enabled_at);

// Steps are Unix time / 30, far below 2^63; a larger value is a caller's bug, not a step.
std::int64_t step_value(std::uint64_t step);
// `before` clamped to what a step column can hold: prunes exactly the same rows.
std::int64_t step_bound(std::uint64_t before);

// Counts read back from a database, clamped into an int.
int clamp_int(std::int64_t value);

}  // namespace twofactor::sealing
