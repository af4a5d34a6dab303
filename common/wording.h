// SPDX-License-Identifier: BSD-2-Clause
// What the PAM module and twofactorctl both tell people, worded once so that they say the same
// thing the same way, and the shape of a code a person types. Header-only: the PAM module uses it
// without linking anything.
#pragma once

#include <cstdint>
#include <ctime>
#include <string>
#include <string_view>

namespace twofactor {

inline constexpr int kCodeDigits = 6;

// True when the text is exactly `digits` ASCII digits.
inline bool is_code_shaped(std::string_view text, int digits = kCodeDigits) {
    if (digits <= 0 || text.size() != static_cast<std::size_t>(digits)) return false;
    for (char c : text) {
        if (c < '0' || c > '9') return false;
    }
    return true;
}

// "2 tries left", "1 try left", "no tries left".
inline std::string tries_left(std::int64_t count) {
    if (count <= 0) return "no tries left";
    return std::to_string(count) + (count == 1 ? " try left" : " tries left");
}

// A moment in local time, to the minute: "2030-01-01 12:00 UTC" (a lock's end). Unix seconds
// when the local time cannot be had.
inline std::string local_time(std::int64_t unix_seconds) {
    const std::time_t when = static_cast<std::time_t>(unix_seconds);
    std::tm parts{};
    char text[64];
    if (localtime_r(&when, &parts) == nullptr ||
        std::strftime(text, sizeof(text), "%Y-%m-%d %H:%M %Z", &parts) == 0)
        return std::to_string(unix_seconds) + " (Unix time)";
    return text;
}

}  // namespace twofactor
