// SPDX-License-Identifier: BSD-2-Clause
// The Key URI Format authenticator apps read (often as a QR code):
// otpauth://totp/ISSUER:ACCOUNT?secret=BASE32&issuer=ISSUER&algorithm=SHA1&digits=6&period=30
#pragma once

#include <string>
#include <string_view>

#include "common/secure.h"

namespace twofactor::ctl {

// RFC 3986 percent-encoding of everything but the unreserved characters.
std::string percent_encode(std::string_view text);

// The URI for a TOTP secret given in base32 (its '=' padding is dropped, as apps expect).
SecureString otpauth_uri(std::string_view issuer, std::string_view account,
                         std::string_view secret_base32);

}  // namespace twofactor::ctl
