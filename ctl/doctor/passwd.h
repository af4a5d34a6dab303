// SPDX-License-Identifier: BSD-2-Clause
// /etc/passwd and /etc/group of the tree (not NSS: --root checks an image, whose users are in
// its files).
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "ctl/doctor/tree.h"

namespace twofactor::ctl::doctor {

struct PasswdEntry {
    std::string name;
    uid_t uid = 0;
    gid_t gid = 0;
    std::string shell;
};

struct GroupEntry {
    std::string name;
    gid_t gid = 0;
    std::vector<std::string> members;
};

std::vector<PasswdEntry> read_passwd(const Tree& tree);
std::vector<GroupEntry> read_groups(const Tree& tree);
std::optional<PasswdEntry> find_account(const Tree& tree, const std::string& name);

// A shell someone can log in with: not empty, not nologin, not false.
bool has_login_shell(const PasswdEntry& entry);

// The names of a user's groups: the primary one and those that list the user.
std::vector<std::string> group_names(const PasswdEntry& user,
                                     const std::vector<GroupEntry>& groups);

}  // namespace twofactor::ctl::doctor
