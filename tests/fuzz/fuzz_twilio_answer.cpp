// SPDX-License-Identifier: BSD-2-Clause
// Twilio's answer parser on any status and body, as a hostile or broken HTTP peer could send.
// The streaming reader is compared with what nlohmann's ordinary parser makes of the same body,
// and every text it returns must be safe to log: short, no control characters, valid UTF-8 and
// no run of 7 or more digits (a phone number Twilio quoted).
//
// Input layout: bytes 0-1 are the HTTP status (a signed 16-bit little-endian number, so that
// nonsense statuses are reached too); the rest is the body.
#include <climits>
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "daemon/twilio/twilio_answer.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

using nlohmann::json;
using twofactor::kMaxTwilioText;

// Strict UTF-8: no overlong forms, no surrogates, nothing past U+10FFFF.
bool is_valid_utf8(std::string_view text) {
    std::size_t i = 0;
    while (i < text.size()) {
        const auto lead = static_cast<unsigned char>(text[i]);
        std::size_t length = 0;
        std::uint32_t point = 0;
        if (lead < 0x80) {
            ++i;
            continue;
        } else if (lead >= 0xC2 && lead <= 0xDF) {
            length = 2;
            point = lead & 0x1Fu;
        } else if (lead >= 0xE0 && lead <= 0xEF) {
            length = 3;
            point = lead & 0x0Fu;
        } else if (lead >= 0xF0 && lead <= 0xF4) {
            length = 4;
            point = lead & 0x07u;
        } else {
            return false;
        }
        if (text.size() - i < length) return false;
        for (std::size_t k = 1; k < length; ++k) {
            const auto next = static_cast<unsigned char>(text[i + k]);
            if ((next & 0xC0) != 0x80) return false;
            point = (point << 6) | (next & 0x3Fu);
        }
        if ((length == 3 && point < 0x800) || (length == 4 && point < 0x10000) ||
            (point >= 0xD800 && point <= 0xDFFF) || point > 0x10FFFF) {
            return false;
        }
        i += length;
    }
    return true;
}

// A text we log or hand to a person: what sanitize_twilio_text() promises.
void check_loggable(const std::string& text) {
    FUZZ_CHECK(text.size() <= kMaxTwilioText, "a Twilio text is longer than the limit");
    std::size_t digit_run = 0;
    for (char c : text) {
        const auto byte = static_cast<unsigned char>(c);
        FUZZ_CHECK(byte >= 0x20 && byte != 0x7f, "a Twilio text has a control character");
        digit_run = (c >= '0' && c <= '9') ? digit_run + 1 : 0;
        FUZZ_CHECK(digit_run < 7, "a Twilio text shows 7 or more digits in a row");
    }
}

// What the parser must conclude, worked out from the whole-document parse.
void check_against_dom(long status, std::string_view body, const twofactor::SmsResult& result) {
    const json document = json::parse(body, nullptr, false);
    if (document.is_discarded() || !document.is_object()) {
        FUZZ_CHECK(!result.accepted, "an answer that is not a JSON object was accepted");
        FUZZ_CHECK(result.twilio_code == 0, "a Twilio code came from no JSON object");
        return;
    }
    if (status == 201) {
        const auto sid = document.find("sid");
        bool plausible = sid != document.end() && sid->is_string();
        if (plausible) {
            const auto& text = sid->get_ref<const std::string&>();
            plausible = text.size() >= 2 && text.size() <= 64;
            for (char c : text) {
                plausible = plausible && ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
                                          (c >= 'A' && c <= 'Z'));
            }
        }
        FUZZ_CHECK(result.accepted == plausible, "201 accepted or refused against its sid");
        if (plausible) FUZZ_CHECK(result.sid == sid->get<std::string>(), "the sid changed");
        FUZZ_CHECK(result.twilio_code == 0, "a 201 answer gave a Twilio error code");
        return;
    }
    std::int64_t expected_code = 0;
    const auto code = document.find("code");
    if (code != document.end() && code->is_number_integer()) {
        if (code->is_number_unsigned()) {
            const auto value = code->get<std::uint64_t>();
            if (value <= static_cast<std::uint64_t>(INT_MAX)) {
                expected_code = static_cast<std::int64_t>(value);
            }
        } else if (const auto value = code->get<std::int64_t>(); value >= 0 && value <= INT_MAX) {
            expected_code = value;
        }
    }
    FUZZ_CHECK(result.twilio_code == expected_code, "the Twilio error code was misread");
    const auto message = document.find("message");
    if (message != document.end() && message->is_string() &&
        !message->get_ref<const std::string&>().empty()) {
        FUZZ_CHECK(result.message ==
                       twofactor::sanitize_twilio_text(message->get_ref<const std::string&>()),
                   "Twilio's error message was not passed on, sanitised");
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 2) return 0;
    const auto status = static_cast<long>(static_cast<std::int16_t>(data[0] | (data[1] << 8)));
    const std::string_view body(reinterpret_cast<const char*>(data) + 2, size - 2);

    // Any bytes at all, as if an error message came without JSON around it.
    const std::string sanitized = twofactor::sanitize_twilio_text(body);
    check_loggable(sanitized);
    if (is_valid_utf8(body)) FUZZ_CHECK(is_valid_utf8(sanitized), "sanitising broke UTF-8");

    const twofactor::SmsResult result = twofactor::parse_twilio_answer(status, body);
    FUZZ_CHECK(result.attempts == 0, "the parser counted an attempt");
    FUZZ_CHECK(!result.message.empty() || result.accepted, "a refusal came without a reason");
    FUZZ_CHECK(result.message.empty() || !result.accepted, "an acceptance came with an error");
    FUZZ_CHECK(result.accepted || result.sid.empty(), "a refused answer kept a sid");
    check_loggable(result.message);
    FUZZ_CHECK(is_valid_utf8(result.message), "the parser's message is not valid UTF-8");

    if (status < 100 || status > 599) {
        FUZZ_CHECK(result.http_status == 0 && !result.accepted, "a nonsense status was taken");
        return 0;
    }
    FUZZ_CHECK(result.http_status == status, "the HTTP status changed");
    const bool reads_body = status == 201 || status >= 400;
    if (!reads_body || body.empty()) {
        FUZZ_CHECK(!result.accepted && result.twilio_code == 0,
                   "an answer whose body is not read was accepted");
        return 0;
    }
    check_against_dom(status, body, result);
    return 0;
}
