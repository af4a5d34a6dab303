// SPDX-License-Identifier: BSD-2-Clause
// Phone numbers as anyone could type them. Whatever normalize_phone() accepts must be E.164
// (^\+[1-9][0-9]{7,14}$) and stay the same when normalised again; mask_phone() must never show
// more than the last 4 digits; country_code_of() must name a prefix of the number.
//
// Input layout: the default country code, a newline, then the number. Without a newline the
// whole input is the number and no default country code is configured.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

#include "common/phone.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

bool is_digit(char c) {
    return c >= '0' && c <= '9';
}

bool is_e164(std::string_view number) {
    if (number.size() < 9 || number.size() > 16 || number[0] != '+' || number[1] == '0') {
        return false;
    }
    for (char c : number.substr(1)) {
        if (!is_digit(c)) return false;
    }
    return true;
}

std::string digits_of(std::string_view text) {
    std::string digits;
    for (char c : text) {
        if (is_digit(c)) digits.push_back(c);
    }
    return digits;
}

// At most 4 digits show, and those are the last 4 of the number, in order.
void check_mask(std::string_view number) {
    const std::string shown = digits_of(twofactor::mask_phone(number));
    FUZZ_CHECK(shown.size() <= 4, "mask_phone() shows more than 4 digits");
    const std::string digits = digits_of(number);
    FUZZ_CHECK(digits.size() >= shown.size() &&
                   digits.compare(digits.size() - shown.size(), shown.size(), shown) == 0,
               "mask_phone() shows digits that are not the number's last ones");
    FUZZ_CHECK(shown.size() < digits.size() || shown.empty(), "mask_phone() shows the number");
}

// Empty, or 1 to 3 digits the number (after an optional '+') starts with.
void check_country_code(std::string_view number) {
    const std::string code = twofactor::country_code_of(number);
    if (code.empty()) return;
    std::string_view rest = number;
    if (!rest.empty() && rest.front() == '+') rest.remove_prefix(1);
    FUZZ_CHECK(code.size() <= 3 && code.front() != '0', "country_code_of() gave no code");
    FUZZ_CHECK(rest.substr(0, code.size()) == code, "country_code_of() is not a prefix");
    FUZZ_CHECK(digits_of(code) == code, "country_code_of() gave a non-digit");
}

// Reasons end up in logs and on screens: a fixed sentence, never a piece of the number.
void check_reason(const std::string& reason) {
    FUZZ_CHECK(!reason.empty(), "a phone error without a reason");
    std::size_t digit_run = 0;
    for (char c : reason) {
        const auto byte = static_cast<unsigned char>(c);
        FUZZ_CHECK(byte >= 0x20 && byte < 0x7f, "a phone error holds a non-printable byte");
        digit_run = is_digit(c) ? digit_run + 1 : 0;
        FUZZ_CHECK(digit_run < 3, "a phone error repeats digits");
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    std::string_view country_code;
    std::string_view typed = input;
    if (const std::size_t newline = input.find('\n'); newline != std::string_view::npos) {
        country_code = input.substr(0, newline);
        typed = input.substr(newline + 1);
    }

    check_mask(typed);
    check_country_code(typed);

    const auto normalized = twofactor::normalize_phone(typed, country_code);
    if (const auto* error = std::get_if<twofactor::PhoneError>(&normalized)) {
        check_reason(error->reason);
        return 0;
    }
    const std::string& number = std::get<std::string>(normalized);
    FUZZ_CHECK(is_e164(number), "normalize_phone() returned a number that is not E.164");

    const auto again = twofactor::normalize_phone(number, country_code);
    const auto* same = std::get_if<std::string>(&again);
    FUZZ_CHECK(same && *same == number, "normalising an E.164 number changed it");

    check_mask(number);
    const std::string code = twofactor::country_code_of(number);
    FUZZ_CHECK(!code.empty(), "an E.164 number has no country code");
    check_country_code(number);
    return 0;
}
