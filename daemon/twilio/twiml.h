// SPDX-License-Identifier: BSD-2-Clause
// The TwiML of a call that reads a code: inline instructions for Twilio's Calls API (`Twiml`),
// so that no web server of ours has to answer Twilio when the phone is picked up.
#pragma once

#include <string>
#include <string_view>

#include "common/secure.h"

namespace twofactor {

// `text` with XML's five special characters as entities, fit for an element or an attribute.
std::string xml_escape(std::string_view text);

// <Response> saying `intro`, then the code digit by digit ("1, 2, 3, 4, 5, 6."), twice with a
// pause between: a person who missed a digit hears it again. Every character of `intro` and
// `code` is escaped; a code's characters other than digits are read as they are. Every copy of
// the code made on the way is wiped.
SecureString code_reading_twiml(std::string_view intro, std::string_view code);

}  // namespace twofactor
