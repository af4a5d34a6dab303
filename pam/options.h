// SPDX-License-Identifier: BSD-2-Clause
// The module's arguments from the PAM service file: `socket=PATH nullok failmode=secure|safe
// tries=N timeout=SECONDS echo debug groups=PATTERN,... trust=SECONDS`. Parsing never fails: a bad
// or unknown argument is reported (the caller logs it) and the default stays, because a typo in
// /etc/pam.d must not lock everyone out of the machine, nor let everyone in.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "common/protocol.h"
#include "pam/groups.h"

namespace twofactor::pam {

// What to do when the daemon cannot be reached or does not answer in time.
enum class FailMode {
    Secure,  // deny (PAM_AUTHINFO_UNAVAIL)
    Safe,    // let the user in (PAM_SUCCESS), logged loudly
};

inline constexpr int kMinTries = 1;
inline constexpr int kMaxTries = 10;
inline constexpr int kDefaultTries = 3;
inline constexpr int kMinTimeoutSeconds = 1;
inline constexpr int kMaxTimeoutSeconds = 300;
inline constexpr int kDefaultTimeoutSeconds = protocol::kDefaultModuleTimeoutSeconds;
// trust=: 0 (off) by default; the daemon's [trust] max_seconds caps it further.
inline constexpr int kMaxTrustSeconds = 30 * 86400;

struct Options {
    std::string socket;  // defaults to paths::kSocket
    bool nullok = false;
    FailMode failmode = FailMode::Secure;
    int tries = kDefaultTries;
    std::chrono::seconds timeout{kDefaultTimeoutSeconds};
    bool echo = false;
    bool debug = false;
    std::optional<GroupPatterns> groups;  // `groups=`: only users inside get a second factor
    // `trust=`: after a success, the same user, service and origin skip the code this long.
    std::chrono::seconds trust{0};
};

struct ParsedOptions {
    Options options;
    // One sentence per argument that was unknown, malformed or clamped; the caller logs them.
    std::vector<std::string> problems;
};

ParsedOptions parse_options(int argc, const char* const* argv);

}  // namespace twofactor::pam
