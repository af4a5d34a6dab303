// SPDX-License-Identifier: BSD-2-Clause
#include "daemon/service/refusals.h"

#include "daemon/log/log.h"

namespace twofactor {

namespace err = protocol::error;

namespace refusals {

Refusal locked(const std::string& user, std::int64_t locked_until) {
    return Refusal{err::Locked,
                   {{"user", user},
                    {"lockedUntil", locked_until},
                    {"message", "the account is locked after too many wrong codes"}}};
}

Refusal not_found(const std::string& id) {
    return Refusal{err::NotFound,
                   {{"twoFactorId", id.substr(0, 64)},
                    {"message", "the two-factor challenge is unknown, used up or expired"}}};
}

Refusal not_enrolled(const std::string& user) {
    return Refusal{err::NotEnrolled,
                   {{"user", user}, {"message", "two-factor is not enabled for " + user}}};
}

}  // namespace refusals

protocol::json delivery_failure(const SmsResult& result) {
    return protocol::make_error(
        err::DeliveryFailed,
        {{"code", result.twilio_code},
         {"status", result.http_status},
         {"message", result.message.empty() ? "the text message was not sent" : result.message}});
}

Refusal text_limit_refusal(std::int64_t wait) {
    return Refusal{err::RateLimited,
                   {{"retryAfter", wait}, {"message", "too many text messages; try again later"}}};
}

void log_undelivered(const std::string& user, const char* what, const SmsResult& result) {
    log::warning(what, {{"user", user},
                        {"twilio_code", std::to_string(result.twilio_code)},
                        {"http_status", std::to_string(result.http_status)},
                        {"reason", result.message}});
}

}  // namespace twofactor
