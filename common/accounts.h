// SPDX-License-Identifier: BSD-2-Clause
// Lookups in the user and group databases (NSS), in one place for the daemon, twofactorctl and
// the PAM module: reentrant, and retried with a larger buffer when an entry does not fit.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>

namespace twofactor {

struct Account {
    std::string name;
    uid_t uid = 0;
    gid_t gid = 0;  // the primary group
};

// The passwd entry of a login name or of a uid; nullopt when there is none or NSS failed. Given
// `error`, account_named sets it to NSS's error number, or 0 when the lookup itself worked.
std::optional<Account> account_named(const std::string& name, int* error = nullptr);
std::optional<Account> account_of(uid_t uid);

// The name of a group: an empty string when the gid has no entry, nullopt when NSS failed (a
// caller deciding on group membership must not take a failure for "no such group").
std::optional<std::string> group_name_of(gid_t gid);

// Looks a group up by name: 0 when the group database answered, whether or not it knows the
// group; else the error number of the failed lookup (a source answered UNAVAIL or TRYAGAIN).
int group_lookup_error(const std::string& name);

}  // namespace twofactor
