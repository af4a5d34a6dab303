// SPDX-License-Identifier: BSD-2-Clause
// Phone numbers: parsing what people type into E.164, and masking for display.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace twofactor {

struct PhoneError {
    std::string reason;  // a sentence for a person: "… has letters in it"
};

// Accepts "+15555555555", "+1 (555) 555-5555", "555-555-5555" (with a default country code),
// "00 44 …". Returns "+<digits>" (8 to 15 digits) or why the input is not a phone number.
// default_country_code is digits only, such as "1" or "44", or empty when none is configured.
std::variant<std::string, PhoneError> normalize_phone(std::string_view input,
                                                      std::string_view default_country_code);

// "+15555555555" -> "***-***-5555": only the last four digits show.
std::string mask_phone(std::string_view e164);

// A country calling code as people configure it ("1", "+44", "354"): its digits, or nullopt when
// the text is not 1 to 3 digits without a leading 0.
std::optional<std::string> calling_code(std::string_view text);

// The country calling code of a normalised number ("+447…" -> "44"), by ITU prefix rules.
std::string country_code_of(std::string_view e164);

}  // namespace twofactor
