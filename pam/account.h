// SPDX-License-Identifier: BSD-2-Clause
// The account a PAM user name stands for, as NSS knows it. Where the account database ignores
// case (sssd with Active Directory), "ALICE" passes pam_unix as alice: the daemon must be asked
// about alice, or nullok would wave ALICE through as "not enrolled".
#pragma once

#include <string>

namespace twofactor::pam {

struct Account {
    enum class Lookup { Found, Unknown, Failed } lookup = Lookup::Failed;
    std::string name;   // the account's own name (pw_name) when found
    std::string error;  // why the lookup failed
};

Account find_account(const std::string& user);

}  // namespace twofactor::pam
