// SPDX-License-Identifier: BSD-2-Clause
#include "pam/account.h"

#include <cstring>

#include "common/accounts.h"

namespace twofactor::pam {

Account find_account(const std::string& user) {
    int error = 0;
    const auto found = twofactor::account_named(user, &error);
    Account account;
    if (error != 0) {
        account.error = std::strerror(error);
        return account;
    }
    if (!found || found->name.empty()) {
        account.lookup = Account::Lookup::Unknown;
        return account;
    }
    account.lookup = Account::Lookup::Found;
    account.name = found->name;
    return account;
}

}  // namespace twofactor::pam
