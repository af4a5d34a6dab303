// SPDX-License-Identifier: BSD-2-Clause
#include "daemon/keys/trust_mac.h"

namespace twofactor {
namespace {

// Names the purpose (and the layout below): the derived key is used for nothing else.
constexpr std::string_view kPurpose = "twofactord trusts v1";

// Each field as its length, a colon and its bytes: no two rows encode alike, whatever their
// fields hold (a service "a" with origin "bc" is not service "ab" with origin "c").
void append_field(std::string& out, std::string_view field) {
    out += std::to_string(field.size());
    out += ':';
    out += field;
}

std::string message(const Trust& t) {
    std::string out;
    append_field(out, t.user);
    append_field(out, t.service);
    append_field(out, t.origin);
    append_field(out, t.host);
    append_field(out, std::to_string(t.created_at));
    append_field(out, std::to_string(t.expires_at));
    return out;
}

}  // namespace

std::string trust_mac(const Cipher& cipher, const Trust& t) {
    return cipher.mac(kPurpose, message(t));
}

bool trust_mac_matches(const Cipher& cipher, const Trust& t, std::string_view mac) {
    return cipher.mac_matches(kPurpose, message(t), mac);
}

std::optional<Trust> Store::checked_trust(const Cipher& cipher, Trust t,
                                          std::string_view mac) const {
    if (trust_mac_matches(cipher, t, mac)) return t;
    if (forged_trust_observer_) forged_trust_observer_(t);
    return std::nullopt;
}

}  // namespace twofactor
