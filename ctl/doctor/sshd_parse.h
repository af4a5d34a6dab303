// SPDX-License-Identifier: BSD-2-Clause
// sshd_config as sshd reads it: the first value of a keyword wins, Include (globs, relative to
// /etc/ssh) splices files in, and each Match block overrides the global values for the
// connections it matches. Every value keeps the file and line that set it. Also runs `sshd -T`
// for the effective global values, when sshd is installed.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "ctl/doctor/findings.h"
#include "ctl/doctor/tree.h"

namespace twofactor::ctl::doctor {

struct SshdSetting {
    std::string value;  // the rest of the line, as written
    std::string file;
    int line = 0;
};

using SshdSettings = std::map<std::string, SshdSetting>;  // keyword in lower case

struct SshdMatch {
    std::string criteria;  // "User alice"
    std::string file;
    int line = 0;
    SshdSettings settings;
};

struct SshdConfig {
    std::string file;  // the main file, as named in reports
    SshdSettings global;
    std::vector<SshdMatch> matches;
};

// Reads `path` (a --sshd-config path on this machine when `on_host`, else a path in the tree).
// Returns nullopt when the file does not exist.
std::optional<SshdConfig> read_sshd_config(const Tree& tree, const std::string& path, bool on_host,
                                           Findings& findings);

// `sshd -T -f FILE` (with `-C CONNECTION` when given, "user=alice,host=...,addr=..."):
// keyword (lower case) -> value. nullopt, with `error` set, when sshd is not installed or fails
// (it needs its host keys and /run/sshd); it never runs longer than 5 s.
std::optional<std::map<std::string, std::string>> run_sshd_t(const std::string& host_file,
                                                             std::string& error,
                                                             const std::string& connection = "");

}  // namespace twofactor::ctl::doctor
