// SPDX-License-Identifier: BSD-2-Clause
// The areas doctor checks, one file each. Each adds what it finds and never throws for a bad
// or unreadable input: that is a finding too.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "ctl/doctor/findings.h"
#include "ctl/doctor/pam_stack.h"
#include "ctl/doctor/tree.h"

namespace twofactor::ctl::doctor {

// What the daemon's configuration says, as far as other checks need it.
struct DaemonConfig {
    std::string file;  // the configuration's path inside the tree
    long long trust_max_seconds = 43200;
    std::string socket;
};

// What the daemon answered about the users who can log in.
struct Enrollments {
    bool reachable = false;
    std::string socket;
    std::string error;                      // why it could not be reached
    std::vector<std::string> login_users;   // users with a login shell, from /etc/passwd
    std::vector<std::string> not_enrolled;  // of those, the ones the daemon does not know
    std::vector<std::string> no_recovery;   // enrolled, texted codes, no recovery code left
};

// sshd.cpp; `sshd_config` is the --sshd-config path, or empty for /etc/ssh/sshd_config.
void check_sshd(const Tree& tree, const std::string& sshd_config, const PamReport& pam,
                Findings& findings);
// sudoers.cpp
void check_sudoers(const Tree& tree, const DaemonConfig& daemon, Findings& findings);
// polkit.cpp
void check_polkit(const Tree& tree, Findings& findings);
// daemon_config.cpp
DaemonConfig check_daemon_config(const Tree& tree, Findings& findings);
Enrollments ask_daemon(const Tree& tree, const std::string& socket,
                       std::chrono::milliseconds timeout, const PamReport& pam, Findings& findings);
// module_options.cpp
void check_module_options(const Tree& tree, const PamReport& pam, const DaemonConfig& daemon,
                          const Enrollments& enrollments, Findings& findings);

// Whether something accepts connections on a Unix socket path (of this machine).
bool socket_answers(const std::string& path, std::string& error);

}  // namespace twofactor::ctl::doctor
