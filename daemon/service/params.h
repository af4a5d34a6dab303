// SPDX-License-Identifier: BSD-2-Clause
// Reading request parameters: every field checked for presence, type and size, with a refusal
// that names the field and says why.
#pragma once

#include <algorithm>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

#include "common/protocol.h"
#include "daemon/service/service.h"

namespace twofactor::params {

inline Refusal invalid(const char* field, const std::string& reason) {
    return Refusal{
        protocol::error::InvalidParameter,
        {{"field", field}, {"reason", reason}, {"message", std::string(field) + ": " + reason}}};
}

// Refuses any parameter but `known`: a misspelt field ("ipaddress", "mobilephone") is an error
// the caller sees, not a value silently dropped.
inline void only(const protocol::json& p, std::initializer_list<std::string_view> known) {
    for (const auto& [key, value] : p.items()) {
        if (std::find(known.begin(), known.end(), key) != known.end()) continue;
        std::string field = key.substr(0, 64);
        throw Refusal{protocol::error::InvalidParameter,
                      {{"field", field},
                       {"reason", "is not a parameter of this method"},
                       {"message", field + ": is not a parameter of this method"}}};
    }
}

inline std::optional<std::string> optional_string(const protocol::json& p, const char* field,
                                                  std::size_t max_length) {
    auto it = p.find(field);
    if (it == p.end() || it->is_null()) return std::nullopt;
    if (!it->is_string()) throw invalid(field, "must be a string");
    const auto& value = it->get_ref<const std::string&>();
    if (value.size() > max_length)
        throw invalid(field, "is longer than " + std::to_string(max_length) + " characters");
    if (value.find('\0') != std::string::npos) throw invalid(field, "contains a NUL character");
    return value;
}

// A whole number from `min` to `max`, or nullopt when absent.
inline std::optional<std::int64_t> optional_integer(const protocol::json& p, const char* field,
                                                    std::int64_t min, std::int64_t max) {
    auto found = p.find(field);
    if (found == p.end()) return std::nullopt;
    if (!found->is_number_integer()) throw invalid(field, "must be a whole number");
    auto value = found->get<std::int64_t>();
    if (value < min || value > max)
        throw invalid(field, "must be from " + std::to_string(min) + " to " + std::to_string(max));
    return value;
}

inline std::string required_string(const protocol::json& p, const char* field,
                                   std::size_t max_length) {
    auto value = optional_string(p, field, max_length);
    if (!value || value->empty()) throw invalid(field, "is required");
    return *value;
}

// A login name as the system knows them: printable, no spaces, colons or slashes.
inline std::string user_name(const protocol::json& p) {
    std::string user = required_string(p, "user", 256);
    for (unsigned char c : user) {
        if (c <= 0x20 || c == 0x7f || c == ':' || c == '/')
            throw invalid("user", "is not a valid login name");
    }
    return user;
}

}  // namespace twofactor::params
