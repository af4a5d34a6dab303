// SPDX-License-Identifier: BSD-2-Clause
// A QR code drawn with Unicode half blocks, two module rows per line of text, for terminals:
// `twofactorctl enroll` shows the otpauth:// URI this way so that a phone can scan it.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace twofactor::ctl {

// The lines of the code for `text` (ECC level L, byte mode, a 2-module quiet zone), light
// modules drawn as blocks so that the usual light-on-dark terminal shows dark modules dark.
// Throws std::runtime_error if the text does not fit in a QR code.
std::vector<std::string> qr_code_lines(std::string_view text);

}  // namespace twofactor::ctl
