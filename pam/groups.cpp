// SPDX-License-Identifier: BSD-2-Clause
#include "pam/groups.h"

#include <fnmatch.h>
#include <grp.h>
#include <sys/random.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <utility>

#include "common/accounts.h"
#include "common/errno_text.h"

namespace twofactor::pam {
namespace {

constexpr int kMaxGroups = 65536;

bool matches(const std::string& pattern, const std::string& name) {
    return fnmatch(pattern.c_str(), name.c_str(), 0) == 0;
}

// A name no group has: a source that knew it would end the lookup before the sources after it
// were asked, and a cache of "no such group" would answer for the sources. So a new name each
// time, that no one can have created ahead. It only needs to be unlikely, not secret.
std::string probe_group_name() {
    std::uint32_t random = 0;
    if (getrandom(&random, sizeof(random), GRND_NONBLOCK) != sizeof(random))
        random =
            static_cast<std::uint32_t>(std::chrono::steady_clock::now().time_since_epoch().count());
    char name[40];
    std::snprintf(name, sizeof(name), "pam-twofactor-probe-%08x", static_cast<unsigned>(random));
    return name;
}

}  // namespace

std::optional<GroupPatterns> parse_group_patterns(std::string_view value) {
    GroupPatterns patterns;
    while (!value.empty()) {
        const auto comma = value.find(',');
        std::string_view item = value.substr(0, comma);
        value = comma == std::string_view::npos ? std::string_view() : value.substr(comma + 1);
        if (item.empty()) continue;
        if (item.front() == '!') {
            item.remove_prefix(1);
            if (!item.empty()) patterns.exclude.emplace_back(item);
        } else {
            patterns.include.emplace_back(item);
        }
    }
    if (patterns.include.empty() && patterns.exclude.empty()) return std::nullopt;
    return patterns;
}

bool groups_match(const GroupPatterns& patterns, const std::vector<std::string>& groups) {
    bool included = false;
    for (const auto& group : groups) {
        for (const auto& pattern : patterns.exclude)
            if (matches(pattern, group)) return false;
        included = included || std::any_of(patterns.include.begin(), patterns.include.end(),
                                           [&](const auto& p) { return matches(p, group); });
    }
    return included;
}

std::optional<std::vector<std::string>> group_names_of(const std::string& user) {
    const auto account = account_named(user);
    if (!account) return std::nullopt;

    std::vector<gid_t> ids(64);
    int count = static_cast<int>(ids.size());
    while (getgrouplist(user.c_str(), account->gid, ids.data(), &count) == -1) {
        if (count <= static_cast<int>(ids.size()) || count > kMaxGroups) return std::nullopt;
        ids.resize(static_cast<std::size_t>(count));
    }
    ids.resize(static_cast<std::size_t>(count));

    std::vector<std::string> names;
    for (const gid_t id : ids) {
        // A group with no name (a bare gid) can match no pattern; a failing NSS cannot decide.
        auto name = group_name_of(id);
        if (!name) return std::nullopt;
        if (!name->empty()) names.push_back(std::move(*name));
    }
    return names;
}

std::optional<std::string> group_database_trouble() {
    const int error = group_lookup_error(probe_group_name());
    if (error == 0) return std::nullopt;
    return "a source of the group database did not answer (" + errno_text(error) + ")";
}

}  // namespace twofactor::pam
