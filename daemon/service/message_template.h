// SPDX-License-Identifier: BSD-2-Clause
// What a text (and a call's intro) says: `[sms] message` with {code}, {service} (the PAM service
// that began the login) and {host} (the host the login is on). A code that names what it unlocks
// reads as an alarm when it comes unasked, and a phished user sees where it is meant to go.
// The values come from the PAM stack and the host's name, never from the remote side (RHOST) or
// from anything a user may set (GECOS); they are still cut to a safe shape here, because a
// non-root caller may name its own service.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace twofactor::message_template {

// The most characters a {service} or {host} value keeps.
inline constexpr std::size_t kMaxValue = 32;
// One SMS segment: 160 GSM-7 septets, or 70 UCS-2 characters once anything is not GSM-7.
inline constexpr std::size_t kGsm7Segment = 160;
inline constexpr std::size_t kUcs2Segment = 70;

inline constexpr const char* kDefault = "{code} is your code for {service} on {host}";
// The voice call's words before the digits.
inline constexpr const char* kDefaultCallIntro = "Your code for {service} on {host} is";

// A value for {service} or {host}: letters, digits and . - _ : / @ + and space kept, any other
// byte (control characters, quotes, brackets, non-ASCII) becomes '?', at most kMaxValue
// characters. Every character kept counts one GSM-7 septet. Empty stays empty.
std::string sanitize(std::string_view value);

// Why the template is refused, or nullopt: it must hold {code}, name no other placeholder than
// {code}, {service} and {host}, and fit one SMS segment with a 6-digit code and the longest
// values (kMaxValue characters each).
std::optional<std::string> check(std::string_view tmpl);

// The length of `text` in one segment's unit: GSM-7 septets (the extension characters count
// two) when every character is GSM-7, else UTF-16 code units; `gsm7` tells which.
std::size_t segment_length(std::string_view text, bool& gsm7);

// The template with every placeholder filled; `service` and `host` are sanitized here.
std::string render(std::string_view tmpl, std::string_view code, std::string_view service,
                   std::string_view host);

}  // namespace twofactor::message_template
