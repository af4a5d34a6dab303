// SPDX-License-Identifier: BSD-2-Clause
// The auth stacks of the services people log in through, flattened the way libpam runs them
// (@include, include, substack, [value=action] controls and their jumps), and every path through
// them that succeeds without pam_twofactor.so deciding.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "ctl/doctor/findings.h"
#include "ctl/doctor/tree.h"

namespace twofactor::ctl::doctor {

// One line that runs pam_twofactor.so in the auth stack of the services checked.
struct ModuleUse {
    std::string file;
    int line = 0;
    std::vector<std::string> options;
    std::vector<std::string> services;  // the checked services whose stack reaches this line
};

struct PamReport {
    std::vector<ModuleUse> uses;
    // For each checked service whose file exists: whether its auth stack runs the module.
    std::map<std::string, bool> service_has_module;
};

// The services checked: sshd, sudo, sudo-i, su, su-l, login, polkit-1, common-auth.
const std::vector<std::string>& checked_services();

PamReport check_pam_stacks(const Tree& tree, Findings& findings);

}  // namespace twofactor::ctl::doctor
