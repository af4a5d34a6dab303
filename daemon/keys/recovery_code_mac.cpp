// SPDX-License-Identifier: BSD-2-Clause
#include "daemon/keys/recovery_code_mac.h"

#include "daemon/keys/key_check.h"

namespace twofactor {
namespace {

// Names the purpose (and the layout below): the derived key is used for nothing else.
constexpr std::string_view kPurpose = "twofactord recovery codes v1";

// Each field as its length, a colon and its bytes, so that no two rows encode alike.
void append_field(std::string& out, std::string_view field) {
    out += std::to_string(field.size());
    out += ':';
    out += field;
}

}  // namespace

std::string keyed_recovery_hash(const Cipher& cipher, std::string_view user, std::string_view salt,
                                std::string_view hash) {
    std::string message;
    append_field(message, user);
    append_field(message, salt);
    append_field(message, hash);
    return cipher.mac(kPurpose, message);
}

void require_the_databases_key(const Cipher& cipher, const std::optional<std::string>& key_check,
                               std::optional<bool> sample_opens, const std::string& where) {
    const bool wrong =
        key_check ? !key_check_opens(cipher, *key_check) : sample_opens.value_or(true) == false;
    if (wrong)
        throw KeyError("the key does not open database " + where +
                       ", so its recovery codes cannot be bound to it; start with the key it "
                       "was sealed with");
}

}  // namespace twofactor
