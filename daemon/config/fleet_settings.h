// SPDX-License-Identifier: BSD-2-Clause
// The settings of a fleet of servers and agents: [listen] on a server, [remote] on an agent, and
// the rule that an agent's configuration names no secret (no database, no data key, no [twilio],
// no [postgresql]): a login host must not hold one by mistake.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "common/ini.h"
#include "daemon/config/settings.h"

namespace twofactor {

// HOST:PORT, HOST a name or an IPv4 address, or [IPv6]:PORT.
struct Endpoint {
    std::string host;
    std::string port;
};
std::optional<Endpoint> parse_endpoint(std::string_view text);

// Reads [listen] and [remote] into `s` (whose [store] backend is already read), and refuses an
// agent's file that names a secret. Throws ConfigError "PATH:LINE: ...".
void read_fleet_settings(const IniFile& ini, Settings& s);

}  // namespace twofactor
