// SPDX-License-Identifier: BSD-2-Clause
#include "pam/not_texted.h"

#include <algorithm>
#include <cstdint>

namespace twofactor::pam {
namespace {

using protocol::json;

constexpr const char* kOtherCodes =
    "Type the code from your authenticator app or a recovery code instead.";

std::int64_t number_in(const json& refusal, const char* key) {
    if (!refusal.is_object()) return 0;
    auto parameters = refusal.find("parameters");
    if (parameters == refusal.end() || !parameters->is_object()) return 0;
    auto found = parameters->find(key);
    if (found == parameters->end() || !found->is_number_integer()) return 0;
    return found->get<std::int64_t>();
}

bool is_rate_limited(const json& refusal) {
    if (!refusal.is_object()) return false;
    auto error = refusal.find("error");
    return error != refusal.end() && error->is_string() &&
           error->get<std::string>() == protocol::error::RateLimited;
}

std::string wait_time(std::int64_t seconds) {
    if (seconds < 120) return std::to_string(std::max<std::int64_t>(seconds, 1)) + " seconds";
    return std::to_string((seconds + 59) / 60) + " minutes";
}

}  // namespace

std::string not_texted_sentence(const json& refusal, const std::string& phone) {
    if (is_rate_limited(refusal)) {
        std::string said = "Too many codes were texted to " + phone + ", so none was sent now";
        if (const auto wait = number_in(refusal, "retryAfter"); wait > 0)
            said += " (texts resume in " + wait_time(wait) + ")";
        return said + ". " + kOtherCodes;
    }
    if (number_in(refusal, "code") == kOptedOut)
        return "The code could not be texted: " + phone +
               " has opted out of text messages. Reply START to the number the codes come "
               "from to receive texts again. " +
               kOtherCodes;
    return "The code could not be texted to " + phone + ". " + kOtherCodes;
}

std::string not_texted_reason(const json& refusal) {
    if (is_rate_limited(refusal))
        return "too many texts, retry after " + std::to_string(number_in(refusal, "retryAfter")) +
               " s";
    return "Twilio error " + std::to_string(number_in(refusal, "code")) + ", HTTP status " +
           std::to_string(number_in(refusal, "status"));
}

}  // namespace twofactor::pam
