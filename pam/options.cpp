// SPDX-License-Identifier: BSD-2-Clause
#include "pam/options.h"

#include <charconv>
#include <string_view>

#include "paths.h"

namespace twofactor::pam {
namespace {

// Reads an integer and clamps it into [low, high]; a value that is not a number keeps
// `fallback`. Each correction is reported.
int clamped_number(std::string_view name, std::string_view text, int low, int high, int fallback,
                   std::vector<std::string>& problems) {
    long long value = 0;
    auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    const std::string what = std::string(name) + "=" + std::string(text);
    if (text.empty() || end != text.data() + text.size() ||
        (error != std::errc() && error != std::errc::result_out_of_range)) {
        problems.push_back("ignoring " + what + ": not a whole number; using " +
                           std::to_string(fallback));
        return fallback;
    }
    const bool too_big_for_long_long = error == std::errc::result_out_of_range;
    if (too_big_for_long_long || value < low || value > high) {
        const int kept = (too_big_for_long_long ? text.front() == '-' : value < low) ? low : high;
        problems.push_back(what + " is outside " + std::to_string(low) + ".." +
                           std::to_string(high) + "; using " + std::to_string(kept));
        return kept;
    }
    return static_cast<int>(value);
}

void apply(std::string_view argument, Options& options, std::vector<std::string>& problems) {
    const auto equals = argument.find('=');
    const std::string_view name = argument.substr(0, equals);
    const bool has_value = equals != std::string_view::npos;
    const std::string_view value = has_value ? argument.substr(equals + 1) : std::string_view();

    if (!has_value && name == "nullok") {
        options.nullok = true;
    } else if (!has_value && name == "echo") {
        options.echo = true;
    } else if (!has_value && name == "debug") {
        options.debug = true;
    } else if (has_value && name == "socket") {
        // A relative path would depend on the host program's working directory.
        if (value.empty() || value.front() != '/')
            problems.push_back("ignoring socket=" + std::string(value) +
                               ": not an absolute path; using " + options.socket);
        else
            options.socket = std::string(value);
    } else if (has_value && name == "failmode") {
        if (value == "secure")
            options.failmode = FailMode::Secure;
        else if (value == "safe")
            options.failmode = FailMode::Safe;
        else {
            // A typo must fail closed, even after an earlier failmode=safe.
            options.failmode = FailMode::Secure;
            problems.push_back("ignoring failmode=" + std::string(value) +
                               ": expected secure or safe; using secure");
        }
    } else if (has_value && name == "tries") {
        options.tries = clamped_number(name, value, kMinTries, kMaxTries, kDefaultTries, problems);
    } else if (has_value && name == "timeout") {
        options.timeout = std::chrono::seconds(clamped_number(
            name, value, kMinTimeoutSeconds, kMaxTimeoutSeconds, kDefaultTimeoutSeconds, problems));
    } else if (has_value && name == "trust") {
        options.trust =
            std::chrono::seconds(clamped_number(name, value, 0, kMaxTrustSeconds, 0, problems));
    } else if (has_value && name == "groups") {
        options.groups = parse_group_patterns(value);
        if (!options.groups)
            problems.push_back("ignoring groups=" + std::string(value) + ": no group pattern");
        else if (options.groups->include.empty())
            problems.push_back("groups=" + std::string(value) +
                               " has only negated patterns: no user is inside them, so the "
                               "module ignores every user");
    } else {
        problems.push_back("ignoring unknown option '" + std::string(argument) + "'");
    }
}

}  // namespace

ParsedOptions parse_options(int argc, const char* const* argv) {
    ParsedOptions parsed;
    parsed.options.socket = paths::kSocket;
    for (int i = 0; argv != nullptr && i < argc; ++i) {
        if (argv[i] == nullptr) continue;
        apply(argv[i], parsed.options, parsed.problems);
    }
    return parsed;
}

}  // namespace twofactor::pam
