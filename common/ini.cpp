// SPDX-License-Identifier: BSD-2-Clause
// The configuration file reader. Every mistake names the file and line so an administrator
// can fix it without guessing; nothing is silently ignored.
#include "common/ini.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

namespace twofactor {

namespace {

// A configuration file is a few hundred bytes; anything this big is the wrong file.
constexpr std::size_t kMaxFileSize = 1024 * 1024;

std::string_view trim(std::string_view text) {
    const auto is_space = [](char c) { return c == ' ' || c == '\t' || c == '\r'; };
    while (!text.empty() && is_space(text.front())) text.remove_prefix(1);
    while (!text.empty() && is_space(text.back())) text.remove_suffix(1);
    return text;
}

[[noreturn]] void fail(const std::string& name, int line, const std::string& what) {
    throw ConfigError(name + ":" + std::to_string(line) + ": " + what);
}

// A value in double quotes keeps what a bare value could not make clear, such as leading
// spaces or a '#'; the quotes themselves are not part of it.
std::string unquote(std::string_view value, const std::string& name, int line) {
    if (value.empty() || value.front() != '"') return std::string(value);
    if (value.size() < 2 || value.back() != '"') {
        fail(name, line, "the value opens a double quote but does not close it at the line's end");
    }
    return std::string(value.substr(1, value.size() - 2));
}

}  // namespace

IniFile IniFile::load(const std::string& path) {
    std::unique_ptr<FILE, int (*)(FILE*)> file(std::fopen(path.c_str(), "re"), &std::fclose);
    if (!file) throw ConfigError(path + ": " + std::strerror(errno));

    std::string text;
    char chunk[4096];
    for (;;) {
        const std::size_t got = std::fread(chunk, 1, sizeof chunk, file.get());
        text.append(chunk, got);
        if (text.size() > kMaxFileSize) {
            throw ConfigError(path + ": the file is larger than 1 MiB; is it the right file?");
        }
        if (got < sizeof chunk) break;
    }
    // fread sets errno on failure, for example EISDIR when the path names a directory.
    if (std::ferror(file.get())) throw ConfigError(path + ": " + std::strerror(errno));
    return parse(text, path);
}

IniFile IniFile::parse(std::string_view text, const std::string& name) {
    IniFile ini;
    ini.name_ = name;
    std::string section;
    bool in_section = false;
    int line_number = 0;

    while (!text.empty()) {
        ++line_number;
        const std::size_t end = text.find('\n');
        std::string_view line = trim(text.substr(0, end));
        text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);

        if (line.find('\0') != std::string_view::npos) {
            fail(name, line_number, "the line has a NUL byte in it");
        }
        if (line.empty() || line.front() == '#' || line.front() == ';') continue;

        if (line.front() == '[') {
            if (line.back() != ']') {
                fail(name, line_number, "the section header has no closing ']'");
            }
            const std::string_view header = trim(line.substr(1, line.size() - 2));
            if (header.empty()) fail(name, line_number, "the section name is empty");
            if (header.find_first_of("[]") != std::string_view::npos) {
                fail(name, line_number, "the section name has a bracket in it");
            }
            section = std::string(header);
            in_section = true;
            ini.sections_[section];  // an empty section still exists
            continue;
        }

        const std::size_t equals = line.find('=');
        if (equals == std::string_view::npos) {
            fail(name, line_number,
                 "expected a [section], a key = value line or a comment starting with # or ;");
        }
        const std::string key(trim(line.substr(0, equals)));
        if (key.empty()) fail(name, line_number, "the line has no key before '='");
        if (!in_section) {
            fail(name, line_number, "the key \"" + key + "\" comes before any [section]");
        }
        const std::string value = unquote(trim(line.substr(equals + 1)), name, line_number);

        auto& keys = ini.sections_[section];
        if (auto it = keys.find(key); it != keys.end()) {
            fail(name, line_number,
                 "the key \"" + key + "\" is set twice in [" + section + "] (first on line " +
                     std::to_string(it->second.line) + ")");
        }
        keys.emplace(key, IniValue{value, line_number});
    }
    return ini;
}

std::optional<IniValue> IniFile::get(const std::string& section, const std::string& key) const {
    const auto s = sections_.find(section);
    if (s == sections_.end()) return std::nullopt;
    const auto k = s->second.find(key);
    if (k == s->second.end()) return std::nullopt;
    return k->second;
}

}  // namespace twofactor
