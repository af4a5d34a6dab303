// SPDX-License-Identifier: BSD-2-Clause
#include "daemon/keys/key_check.h"

namespace twofactor {
namespace {

// The associated data names the purpose, so no other sealed value can stand in for the check.
constexpr std::string_view kAssociatedData = "twofactord key check";
constexpr std::string_view kKnownText = "twofactord database key";

[[noreturn]] void wrong_key(const std::string& key_name, const std::string& where,
                            const std::string& why) {
    throw KeyError(key_name + " does not open database " + where + ": " + why +
                   "; start with the key it was sealed with");
}

}  // namespace

std::string seal_key_check(const Cipher& cipher) {
    return cipher.seal(kKnownText, kAssociatedData);
}

bool key_check_opens(const Cipher& cipher, std::string_view sealed) {
    auto opened = cipher.open(sealed, kAssociatedData);
    return opened && opened->view() == kKnownText;
}

void check_key(KeyCheckStore& store, const Cipher& cipher, const std::string& key_name,
               const std::string& where) {
    if (auto sealed = store.get_metadata(kKeyCheckName)) {
        if (!key_check_opens(cipher, *sealed))
            wrong_key(key_name, where, "it was sealed with another key");
        return;
    }
    if (store.sample_enrollment_opens() == false)
        wrong_key(key_name, where, "its enrollments were sealed with another key");
    store.put_metadata(kKeyCheckName, seal_key_check(cipher));
}

}  // namespace twofactor
