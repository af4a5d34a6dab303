// SPDX-License-Identifier: BSD-2-Clause
// RFC 4648 base32 (upper case alphabet, '=' padding).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace twofactor {

std::string base32_encode(std::string_view bytes);

// Accepts upper or lower case, optional padding, and ignores spaces; nullopt on anything else.
std::optional<std::string> base32_decode(std::string_view text);

}  // namespace twofactor
