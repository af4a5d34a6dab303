// SPDX-License-Identifier: BSD-2-Clause
#include "daemon/service/message_template.h"

#include <cctype>
#include <cstring>

namespace twofactor::message_template {

namespace {

constexpr std::string_view kPlaceholders[] = {"code", "service", "host"};

// strchr finds the terminating NUL too: a NUL byte is tested apart.
bool kept_in_value(unsigned char c) {
    return c != 0 && (std::isalnum(c) || std::strchr(" .-_:/@+", c) != nullptr);
}

// GSM 03.38 in ASCII: the basic set (one septet) and its extension (two). '`' is in neither.
int gsm7_septets(unsigned char c) {
    if (c == 0) return 0;
    if (std::isalnum(c) || c == ' ' || c == '\n' || c == '\r') return 1;
    if (std::strchr("!\"#$%&'()*+,-./:;<=>?@_", c) != nullptr) return 1;
    if (std::strchr("^{}\\[~]|", c) != nullptr) return 2;
    return 0;
}

// The name of the placeholder starting at `at` ('{'), or empty when none starts there.
std::string_view placeholder_at(std::string_view tmpl, std::size_t at) {
    std::size_t end = at + 1;
    while (end < tmpl.size() &&
           (std::isalnum(static_cast<unsigned char>(tmpl[end])) || tmpl[end] == '_'))
        ++end;
    if (end == at + 1 || end >= tmpl.size() || tmpl[end] != '}') return {};
    return tmpl.substr(at + 1, end - at - 1);
}

}  // namespace

std::string sanitize(std::string_view value) {
    std::string out;
    for (unsigned char c : value) {
        if (out.size() == kMaxValue) break;
        out.push_back(kept_in_value(c) ? static_cast<char>(c) : '?');
    }
    return out;
}

std::size_t segment_length(std::string_view text, bool& gsm7) {
    std::size_t septets = 0, utf16 = 0;
    gsm7 = true;
    for (std::size_t i = 0; i < text.size(); ++i) {
        const auto c = static_cast<unsigned char>(text[i]);
        // UTF-16 units: one per code point, two above the BMP (a 4-byte UTF-8 lead).
        if ((c & 0xC0) != 0x80) utf16 += c >= 0xF0 ? 2 : 1;
        const int s = c < 0x80 ? gsm7_septets(c) : 0;
        if (s == 0) gsm7 = false;
        septets += s;
    }
    return gsm7 ? septets : utf16;
}

std::optional<std::string> check(std::string_view tmpl) {
    bool has_code = false;
    for (std::size_t at = tmpl.find('{'); at != std::string_view::npos;
         at = tmpl.find('{', at + 1)) {
        const std::string_view name = placeholder_at(tmpl, at);
        if (name.empty()) continue;
        bool known = false;
        for (auto p : kPlaceholders) known = known || name == p;
        if (!known)
            return "message names {" + std::string(name) +
                   "}; it knows only {code}, {service} and {host}";
        has_code = has_code || name == "code";
    }
    if (!has_code) return "message must contain {code} where the code goes";
    const std::string longest(kMaxValue, 'x');
    bool gsm7 = true;
    const std::size_t length = segment_length(render(tmpl, "123456", longest, longest), gsm7);
    const std::size_t limit = gsm7 ? kGsm7Segment : kUcs2Segment;
    if (length > limit)
        return "message is " + std::to_string(length) + (gsm7 ? " GSM-7" : " UCS-2") +
               " characters with a 6-digit code and " + std::to_string(kMaxValue) +
               "-character {service} and {host}; one text holds " + std::to_string(limit);
    return std::nullopt;
}

std::string render(std::string_view tmpl, std::string_view code, std::string_view service,
                   std::string_view host) {
    const std::string values[] = {std::string(code), sanitize(service), sanitize(host)};
    std::string out;
    std::size_t from = 0;
    for (std::size_t at = tmpl.find('{'); at != std::string_view::npos;
         at = tmpl.find('{', at + 1)) {
        const std::string_view name = placeholder_at(tmpl, at);
        for (std::size_t i = 0; i < std::size(kPlaceholders); ++i) {
            if (name != kPlaceholders[i]) continue;
            out.append(tmpl.substr(from, at - from));
            out.append(values[i]);
            from = at + name.size() + 2;
        }
    }
    out.append(tmpl.substr(from));
    return out;
}

}  // namespace twofactor::message_template
