// SPDX-License-Identifier: BSD-2-Clause
#include "pam/groups.h"

#include <fnmatch.h>
#include <grp.h>
#include <unistd.h>

#include <algorithm>
#include <utility>

#include "common/accounts.h"

namespace twofactor::pam {
namespace {

constexpr int kMaxGroups = 65536;

bool matches(const std::string& pattern, const std::string& name) {
    return fnmatch(pattern.c_str(), name.c_str(), 0) == 0;
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

}  // namespace twofactor::pam
