// SPDX-License-Identifier: BSD-2-Clause
#include "ctl/otpauth.h"

#include "common/totp.h"

namespace twofactor::ctl {

namespace {
bool is_unreserved(unsigned char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_' || c == '~';
}
}  // namespace

std::string percent_encode(std::string_view text) {
    static constexpr char kHex[] = "0123456789ABCDEF";
    std::string out;
    out.reserve(text.size() * 3);
    for (unsigned char c : text) {
        if (is_unreserved(c)) {
            out.push_back(static_cast<char>(c));
        } else {
            out.push_back('%');
            out.push_back(kHex[c >> 4]);
            out.push_back(kHex[c & 0x0F]);
        }
    }
    return out;
}

SecureString otpauth_uri(std::string_view issuer, std::string_view account,
                         std::string_view secret_base32) {
    while (!secret_base32.empty() && secret_base32.back() == '=') secret_base32.remove_suffix(1);
    std::string uri =
        "otpauth://totp/" + percent_encode(issuer) + ":" + percent_encode(account) + "?secret=";
    uri.append(secret_base32);
    uri += "&issuer=" + percent_encode(issuer) +
           "&algorithm=SHA1&digits=" + std::to_string(kCodeDigits) +
           "&period=" + std::to_string(kStepSeconds);
    return SecureString(std::move(uri));
}

}  // namespace twofactor::ctl
