// SPDX-License-Identifier: BSD-2-Clause
#include "daemon/log/log_format.h"

#include <cctype>
#include <cstdio>

namespace twofactor::log {
namespace {

const char* level_name(Level level) {
    switch (level) {
        case Level::Error:
            return "error";
        case Level::Warning:
            return "warning";
        case Level::Notice:
            return "notice";
        case Level::Info:
            return "info";
        case Level::Debug:
            return "debug";
    }
    return "info";
}

std::string journal_name(std::string_view key) {
    if (key == "user" || key == "rhost" || key == "service") {
        std::string name;
        for (char c : key) name += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
        return name;
    }
    std::string name = "TWOFACTOR_";
    for (char c : key) {
        name += std::isalnum(static_cast<unsigned char>(c))
                    ? static_cast<char>(std::toupper(static_cast<unsigned char>(c)))
                    : '_';
    }
    return name;
}

}  // namespace

std::string escape(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (char c : text) {
        const auto byte = static_cast<unsigned char>(c);
        if (c == '\\') {
            out += "\\\\";
        } else if (byte < 0x20 || byte == 0x7f) {
            char hex[5];
            std::snprintf(hex, sizeof hex, "\\x%02x", byte);
            out += hex;
        } else {
            out += c;
        }
    }
    return out;
}

std::vector<std::string> journal_fields(Level level, std::string_view message,
                                        std::span<const Field> fields) {
    std::vector<std::string> parts;
    parts.push_back("MESSAGE=" + escape(message));
    parts.push_back("PRIORITY=" + std::to_string(static_cast<int>(level)));
    parts.push_back("SYSLOG_IDENTIFIER=twofactord");
    for (const auto& [key, value] : fields)
        parts.push_back(journal_name(key) + "=" + escape(value));
    return parts;
}

std::string stderr_line(Level level, std::string_view message, std::span<const Field> fields) {
    std::string line = "twofactord: ";
    line += level_name(level);
    line += ": ";
    line += escape(message);
    for (const auto& [key, value] : fields) {
        line += ' ';
        line += escape(key);
        line += '=';
        line += escape(value);
    }
    line += '\n';
    return line;
}

}  // namespace twofactor::log
