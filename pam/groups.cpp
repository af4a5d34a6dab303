#include "pam/groups.h"

#include <fnmatch.h>
#include <grp.h>
#include <pwd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

namespace twofactor::pam {
namespace {

// NSS answers of unknown size: retry with a larger buffer, up to a bound.
constexpr std::size_t kMaxBuffer = 1 << 20;
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
    std::vector<char> buffer(4096);
    passwd account{};
    passwd* found = nullptr;
    int error = 0;
    while ((error = getpwnam_r(user.c_str(), &account, buffer.data(), buffer.size(), &found)) ==
               ERANGE &&
           buffer.size() < kMaxBuffer)
        buffer.resize(buffer.size() * 2);
    if (error != 0 || found == nullptr) return std::nullopt;

    std::vector<gid_t> ids(64);
    int count = static_cast<int>(ids.size());
    while (getgrouplist(user.c_str(), account.pw_gid, ids.data(), &count) == -1) {
        if (count <= static_cast<int>(ids.size()) || count > kMaxGroups) return std::nullopt;
        ids.resize(static_cast<std::size_t>(count));
    }
    ids.resize(static_cast<std::size_t>(count));

    std::vector<std::string> names;
    for (const gid_t id : ids) {
        group entry{};
        group* result = nullptr;
        while ((error = getgrgid_r(id, &entry, buffer.data(), buffer.size(), &result)) == ERANGE &&
               buffer.size() < kMaxBuffer)
            buffer.resize(buffer.size() * 2);
        // A group with no name (a bare gid) can match no pattern; a failing NSS cannot decide.
        if (error != 0) return std::nullopt;
        if (result != nullptr) names.emplace_back(result->gr_name);
    }
    return names;
}

}  // namespace twofactor::pam
