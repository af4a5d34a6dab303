// SPDX-License-Identifier: BSD-2-Clause
// The command line: global options, a command, its operands and its options. Every mistake is a
// UsageError found before the daemon is contacted.
#pragma once

#include <chrono>
#include <map>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "common/secure.h"

namespace twofactor::ctl {

class UsageError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

inline constexpr std::chrono::milliseconds kDefaultTimeout{30000};

struct Invocation {
    bool json = false;
    bool help = false;
    bool version = false;
    bool call = false;  // send --call: ring the phone instead of texting
    std::string socket;
    std::chrono::milliseconds timeout = kDefaultTimeout;
    std::string command;
    std::vector<std::string> operands;
    // Command options by name without the dashes ("two-factor-id"). Values may be secrets, so
    // all of them live in SecureStrings.
    std::map<std::string, SecureString, std::less<>> options;

    bool has(std::string_view name) const { return options.find(name) != options.end(); }
    // The option's value, or an empty string when it was not given.
    std::string_view value(std::string_view name) const;
};

// Parses and checks argv. The bytes of --secret and --code values are overwritten in argv once
// copied, so they stop showing in `ps` and /proc/PID/cmdline. Throws UsageError.
Invocation parse_arguments(int argc, char** argv);

// The --help text.
std::string usage_text();

}  // namespace twofactor::ctl
