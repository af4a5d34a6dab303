// SPDX-License-Identifier: BSD-2-Clause
// Turns what Twilio's Messages API answered into an SmsResult, whatever the bytes are.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "daemon/twilio/twilio.h"

namespace twofactor {

// Twilio's text is kept to this many bytes: enough for any real error message.
inline constexpr std::size_t kMaxTwilioText = 300;

// Reads one HTTP answer (status and body). Never throws for any body: bad JSON, JSON that is not
// an object, fields of the wrong type, huge or deeply nested input all give accepted == false and
// a sentence in `message` naming what was wrong. `attempts` is left at 0. Every string seen while
// parsing is wiped, because Twilio echoes the message body (the code) back.
// `success` is the status of a successful answer: 201 (a message, a verification), 200 (a
// verification check, accepted only when its "status" is "approved").
SmsResult parse_twilio_answer(long http_status, std::string_view body, long success = 201);

// Makes Twilio's text safe to log and show: control characters become spaces, every run of 7 or
// more digits keeps only its last 4 (Twilio quotes the phone number in its errors), and the
// result is cut at kMaxTwilioText bytes.
std::string sanitize_twilio_text(std::string_view text);

}  // namespace twofactor
