// SPDX-License-Identifier: BSD-2-Clause
// The module's `groups=PATTERN,...` option, with the semantics of Duo Unix's `groups`: shell
// patterns (fnmatch) on the names of the user's groups, primary and supplementary; a pattern
// that starts with `!` excludes. A user is inside when one of their groups matches a plain
// pattern and none matches a negated one. Users outside get PAM_IGNORE, never PAM_SUCCESS.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace twofactor::pam {

struct GroupPatterns {
    std::vector<std::string> include;  // plain patterns
    std::vector<std::string> exclude;  // negated patterns, without the `!`
};

// Splits the option's value at commas; empty items are skipped. A value with no pattern at all
// is nullopt (the option is then ignored, and the caller reports it).
std::optional<GroupPatterns> parse_group_patterns(std::string_view value);

// Whether a user who is a member of `groups` is inside the patterns.
bool groups_match(const GroupPatterns& patterns, const std::vector<std::string>& groups);

// The names of the user's primary and supplementary groups from NSS; nullopt when the user or
// the groups cannot be read (the caller then asks for the code: failing open is not an option).
std::optional<std::vector<std::string>> group_names_of(const std::string& user);

// Why the group database cannot be trusted to have named all of a user's groups just now, or
// nullopt when it can. getgrouplist() skips a source that answers UNAVAIL (LDAP through nslcd,
// winbind, with their server or daemon down) and reports the other sources' groups as if they
// were all, so a user judged outside groups= is outside for certain only if every source
// answers: this looks up a group that exists nowhere, which asks each source on the group line.
std::optional<std::string> group_database_trouble();

}  // namespace twofactor::pam
