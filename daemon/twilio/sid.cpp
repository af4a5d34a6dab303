// SPDX-License-Identifier: BSD-2-Clause
#include "daemon/twilio/sid.h"

#include <algorithm>

namespace twofactor {

std::optional<std::string> check_sid(std::string_view key, std::string_view prefix,
                                     std::string_view value) {
    auto hex = [](char c) {
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
    };
    if (value.size() == prefix.size() + 32 && value.substr(0, prefix.size()) == prefix &&
        std::all_of(value.begin() + static_cast<long>(prefix.size()), value.end(), hex))
        return std::nullopt;
    std::string shown(value.substr(0, 64));
    return std::string(key) + " must be " + std::string(prefix) +
           " followed by 32 hex digits, not '" + shown + "'";
}

std::string regional_url(std::string_view product, std::string_view edge, std::string_view region) {
    if (edge.empty() && region.empty()) return {};
    std::string host = "https://" + std::string(product) + ".";
    if (!edge.empty())
        host += std::string(edge) + "." + std::string(region.empty() ? "us1" : region);
    else
        host += std::string(region);
    return host + ".twilio.com";
}

std::optional<std::string> check_host_label(std::string_view key, std::string_view value) {
    auto allowed = [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
    };
    if (!value.empty() && value.size() <= 63 && value.front() != '-' && value.back() != '-' &&
        std::all_of(value.begin(), value.end(), allowed))
        return std::nullopt;
    return std::string(key) + " must be a Twilio location name such as " +
           (key == "edge" ? "dublin or sydney" : "ie1 or au1") + ", not '" +
           std::string(value.substr(0, 64)) + "'";
}

}  // namespace twofactor
