// SPDX-License-Identifier: BSD-2-Clause
// Twilio's resource identifiers and host names, checked before anything is sent with them.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace twofactor {

// nullopt when `value` is `prefix` (AC, SK, MG, VA) and 32 lowercase or uppercase hex digits,
// else a sentence naming the key: "account_sid must be AC and 32 hex digits, not 'AC12'".
std::optional<std::string> check_sid(std::string_view key, std::string_view prefix,
                                     std::string_view value);

// The base URL of a Twilio product (`api`, `verify`) in an edge location and region, as Twilio's
// SDKs build it: https://{product}.{edge}.{region}.twilio.com. An edge without a region is in
// us1; a region alone is https://{product}.{region}.twilio.com. Empty when both are empty.
std::string regional_url(std::string_view product, std::string_view edge, std::string_view region);

// nullopt when `value` can be a label of a host name (letters, digits, '-').
std::optional<std::string> check_host_label(std::string_view key, std::string_view value);

}  // namespace twofactor
