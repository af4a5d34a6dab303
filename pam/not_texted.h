// SPDX-License-Identifier: BSD-2-Clause
// What the user reads when the login's code could not be texted (Begin's `textNotSent`, or a
// resend that failed before any text went out): that no code is coming, why when it helps, and
// that the authenticator app's code or a recovery code still gets in.
#pragma once

#include <string>

#include "common/protocol.h"

namespace twofactor::pam {

// The prompt while no text is on its way.
inline constexpr const char* kNotTextedPrompt = "Authenticator app or recovery code: ";

// Twilio's code for a number that replied STOP: only the phone's owner can undo it.
inline constexpr std::int64_t kOptedOut = 21610;

// `refusal` is the daemon's error message ({"error", "parameters"}) for the text that did not
// go out; `phone` the masked number.
std::string not_texted_sentence(const protocol::json& refusal, const std::string& phone);

// "Twilio error 21610, HTTP status 400" or "too many texts, retry after 60 s": for the log.
std::string not_texted_reason(const protocol::json& refusal);

}  // namespace twofactor::pam
