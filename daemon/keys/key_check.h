// SPDX-License-Identifier: BSD-2-Clause
// The key check value: a known text sealed with the database key and kept with the data, so a
// daemon given another key stops at start instead of writing rows under a second key.
// Backend-neutral: a store keeps the sealed bytes under kKeyCheckName in its metadata and
// answers the few questions below.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "daemon/keys/cipher.h"

namespace twofactor {

inline constexpr const char* kKeyCheckName = "key_check";

// What check_key needs from a store, whichever backend holds it.
class KeyCheckStore {
public:
    virtual ~KeyCheckStore() = default;
    virtual std::optional<std::string> get_metadata(const std::string& name) const = 0;
    virtual void put_metadata(const std::string& name, const std::string& value) = 0;
    // True when some enrollment opens with the store's cipher, false when one does not,
    // nullopt when there is none to try.
    virtual std::optional<bool> sample_enrollment_opens() const = 0;
};

std::string seal_key_check(const Cipher& cipher);
bool key_check_opens(const Cipher& cipher, std::string_view sealed);

// Throws KeyError ("key KEY does not open database WHERE: ...") when the store was sealed with
// another key. A store without a check value (new, or written before the check existed) gets
// one, but only after a sample enrollment, if there is one, shows that the key is right.
void check_key(KeyCheckStore& store, const Cipher& cipher, const std::string& key_name,
               const std::string& where);

}  // namespace twofactor
