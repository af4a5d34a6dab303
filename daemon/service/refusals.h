// SPDX-License-Identifier: BSD-2-Clause
// Each refusal the methods share, built in one place, and the one journal line of a text, call
// or verification Twilio did not take.
#pragma once

#include <cstdint>
#include <exception>
#include <string>

#include "common/protocol.h"
#include "daemon/service/messenger.h"

namespace twofactor {

// A refusal carried to the reply: one protocol error with its parameters. An exception like
// every other that can leave a rule, so that whatever catches std::exception catches it too.
struct Refusal : std::exception {
    Refusal(const char* e, protocol::json p) : error(e), parameters(std::move(p)) {}
    const char* what() const noexcept override { return error; }
    protocol::json as_message() const { return protocol::make_error(error, parameters); }
    const char* error;
    protocol::json parameters;
};

namespace refusals {

// The account is locked after too many wrong codes, until `locked_until`.
Refusal locked(const std::string& user, std::int64_t locked_until);
// The challenge is unknown, used up or expired.
Refusal not_found(const std::string& id);
// The user has no second factor enabled.
Refusal not_enrolled(const std::string& user);

}  // namespace refusals

// The DeliveryFailed error for a text Twilio did not accept.
protocol::json delivery_failure(const SmsResult& result);
// The RateLimited refusal of a text the hourly or per-minute text limits hold back.
Refusal text_limit_refusal(std::int64_t wait);

// The warning a text, call or verification Twilio did not take (or may deliver late) leaves:
// Twilio's code and status, which the module and twofactorctl show the user only as a sentence.
void log_undelivered(const std::string& user, const char* what, const SmsResult& result);

}  // namespace twofactor
