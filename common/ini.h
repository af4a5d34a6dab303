// SPDX-License-Identifier: BSD-2-Clause
// A small INI reader: [section], key = value, '#' or ';' comments. Errors name the file and line.
#pragma once

#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace twofactor {

class ConfigError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

struct IniValue {
    std::string value;
    int line = 0;
};

class IniFile {
public:
    // Throws ConfigError("PATH:LINE: what is wrong") on a syntax error, a duplicate key,
    // a key outside a section, or an unreadable file ("PATH: No such file or directory").
    static IniFile load(const std::string& path);
    static IniFile parse(std::string_view text, const std::string& name);

    const std::string& name() const { return name_; }
    std::optional<IniValue> get(const std::string& section, const std::string& key) const;
    const std::map<std::string, std::map<std::string, IniValue>>& sections() const {
        return sections_;
    }

private:
    std::string name_;
    std::map<std::string, std::map<std::string, IniValue>> sections_;
};

}  // namespace twofactor
