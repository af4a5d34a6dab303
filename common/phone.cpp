// SPDX-License-Identifier: BSD-2-Clause
// Phone numbers as people type them, turned into E.164 for Twilio. Error sentences never
// repeat the number: they end up in logs and on screens that should not show it in full.
#include "common/phone.h"

namespace twofactor {

namespace {

constexpr std::size_t kMinDigits = 8;
constexpr std::size_t kMaxDigits = 15;

bool is_separator(char c) {
    return c == ' ' || c == '.' || c == '-' || c == '(' || c == ')';
}
bool is_digit(char c) {
    return c >= '0' && c <= '9';
}
bool is_letter(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

PhoneError error(std::string reason) {
    return PhoneError{std::move(reason)};
}

// Two-digit ITU country calling codes; codes starting 1 or 7 have one digit, all others three.
bool is_two_digit_code(int code) {
    switch (code / 10) {
        case 2:
            return code == 20 || code == 27;
        case 3:
            return (code >= 30 && code <= 34) || code == 36 || code == 39;
        case 4:
            return code != 42;
        case 5:
            return code >= 51 && code <= 58;
        case 6:
            return code >= 60 && code <= 66;
        case 8:
            return code == 81 || code == 82 || code == 84 || code == 86;
        case 9:
            return (code >= 90 && code <= 95) || code == 98;
        default:
            return false;
    }
}

// What the person typed, reduced to digits, with whether it was marked international.
struct Typed {
    std::string digits;
    bool plus = false;
};

std::variant<Typed, PhoneError> read_typed(std::string_view input) {
    Typed typed;
    bool seen_anything = false;
    for (std::size_t i = 0; i < input.size(); ++i) {
        const char c = input[i];
        // "+44 (0)7700 900123": the bracketed trunk 0 is dialled only from inside the
        // country; kept, it would text a different number.
        if (input.substr(i, 3) == "(0)") {
            i += 2;
            continue;
        }
        if (is_separator(c)) continue;
        if (c == '+') {
            if (seen_anything) {
                return error(
                    "The phone number has a \"+\" in the middle; \"+\" may only come first.");
            }
            typed.plus = true;
        } else if (is_digit(c)) {
            typed.digits.push_back(c);
        } else if (is_letter(c)) {
            return error("The phone number has letters in it; write it with digits only.");
        } else {
            return error(
                "The phone number has a character that is not a digit, space, dot, dash, "
                "parenthesis or leading \"+\".");
        }
        seen_anything = true;
        // Far beyond any number: stop before an absurd input costs memory.
        if (typed.digits.size() > 64) break;
    }
    if (!seen_anything) return error("The phone number is empty.");
    if (typed.plus && typed.digits.empty()) {
        return error("The phone number has a \"+\" but no digits after it.");
    }
    return typed;
}

std::variant<std::string, PhoneError> check_country_code(std::string_view code) {
    if (auto digits = calling_code(code)) return std::move(*digits);
    return error("The default country code is not 1 to 3 digits without a leading 0.");
}

}  // namespace

std::variant<std::string, PhoneError> normalize_phone(std::string_view input,
                                                      std::string_view default_country_code) {
    auto typed_or_error = read_typed(input);
    if (auto* e = std::get_if<PhoneError>(&typed_or_error)) return std::move(*e);
    Typed& typed = std::get<Typed>(typed_or_error);

    std::string international;
    if (typed.plus) {
        international = std::move(typed.digits);
    } else if (typed.digits.starts_with("00")) {
        international = typed.digits.substr(2);  // "00" is the international prefix
    } else {
        if (default_country_code.empty()) {
            return error(
                "The phone number has no country code; write it as +<country code><number>.");
        }
        auto code_or_error = check_country_code(default_country_code);
        if (auto* e = std::get_if<PhoneError>(&code_or_error)) return std::move(*e);
        const std::string& code = std::get<std::string>(code_or_error);

        std::string national = std::move(typed.digits);
        if (code == "1") {
            // North America writes its country code as a trunk "1": 1-555-555-5555.
            if (national.size() == 11 && national.front() == '1') national.erase(0, 1);
        } else if (code != "39" && national.starts_with('0')) {
            // The trunk "0" is dialled only inside the country (Italy keeps it in E.164).
            national.erase(0, 1);
        }
        if (national.empty()) return error("The phone number has no digits after its prefix.");
        international = code + national;
    }

    if (international.empty()) return error("The phone number has no digits after \"00\".");
    if (international.front() == '0') {
        return error("The phone number's country code starts with 0; no country code does.");
    }
    if (international.size() < kMinDigits) {
        return error(
            "The phone number has too few digits: with its country code it needs at least 8.");
    }
    if (international.size() > kMaxDigits) {
        return error(
            "The phone number has too many digits: with its country code it has at most 15.");
    }
    return "+" + international;
}

std::string mask_phone(std::string_view e164) {
    std::string digits;
    for (char c : e164) {
        if (is_digit(c)) digits.push_back(c);
    }
    // Never show a whole number, even a malformed short one.
    if (digits.size() <= 4) return "***-***-****";
    return "***-***-" + digits.substr(digits.size() - 4);
}

std::optional<std::string> calling_code(std::string_view text) {
    if (!text.empty() && text.front() == '+') text.remove_prefix(1);
    if (text.empty() || text.size() > 3 || text.front() == '0') return std::nullopt;
    for (char c : text) {
        if (!is_digit(c)) return std::nullopt;
    }
    return std::string(text);
}

std::string country_code_of(std::string_view e164) {
    if (!e164.empty() && e164.front() == '+') e164.remove_prefix(1);
    for (char c : e164) {
        if (!is_digit(c)) return {};
    }
    if (e164.empty() || e164.front() == '0') return {};
    if (e164.front() == '1' || e164.front() == '7') return std::string(e164.substr(0, 1));
    if (e164.size() < 2) return {};
    const int two = (e164[0] - '0') * 10 + (e164[1] - '0');
    if (is_two_digit_code(two)) return std::string(e164.substr(0, 2));
    if (e164.size() < 3) return {};
    return std::string(e164.substr(0, 3));
}

}  // namespace twofactor
