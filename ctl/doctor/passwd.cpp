// SPDX-License-Identifier: BSD-2-Clause
#include "ctl/doctor/passwd.h"

#include <algorithm>

namespace twofactor::ctl::doctor {

namespace {

std::vector<std::string> split(const std::string& text, char separator) {
    std::vector<std::string> parts;
    std::size_t start = 0;
    for (;;) {
        auto end = text.find(separator, start);
        parts.push_back(text.substr(start, end == std::string::npos ? end : end - start));
        if (end == std::string::npos) return parts;
        start = end + 1;
    }
}

std::optional<unsigned long> number(const std::string& text) {
    if (text.empty() || text.size() > 10 ||
        !std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; }))
        return std::nullopt;
    return std::stoul(text);
}

}  // namespace

std::vector<PasswdEntry> read_passwd(const Tree& tree) {
    std::vector<PasswdEntry> entries;
    TextFile file;
    std::string error;
    if (tree.read("/etc/passwd", file, error) != ReadResult::Ok) return entries;
    for (const auto& line : file.lines) {
        auto fields = split(line, ':');
        if (fields.size() < 7) continue;
        auto uid = number(fields[2]), gid = number(fields[3]);
        if (!uid || !gid) continue;
        entries.push_back(
            {fields[0], static_cast<uid_t>(*uid), static_cast<gid_t>(*gid), fields[6]});
    }
    return entries;
}

std::vector<GroupEntry> read_groups(const Tree& tree) {
    std::vector<GroupEntry> entries;
    TextFile file;
    std::string error;
    if (tree.read("/etc/group", file, error) != ReadResult::Ok) return entries;
    for (const auto& line : file.lines) {
        auto fields = split(line, ':');
        if (fields.size() < 4) continue;
        auto gid = number(fields[2]);
        if (!gid) continue;
        GroupEntry entry{fields[0], static_cast<gid_t>(*gid), {}};
        if (!fields[3].empty()) entry.members = split(fields[3], ',');
        entries.push_back(std::move(entry));
    }
    return entries;
}

std::optional<PasswdEntry> find_account(const Tree& tree, const std::string& name) {
    for (auto& entry : read_passwd(tree))
        if (entry.name == name) return entry;
    return std::nullopt;
}

bool has_login_shell(const PasswdEntry& entry) {
    const std::string& shell = entry.shell;
    auto ends_with = [&](const std::string& tail) {
        return shell.size() >= tail.size() &&
               shell.compare(shell.size() - tail.size(), tail.size(), tail) == 0;
    };
    return !shell.empty() && !ends_with("nologin") && !ends_with("/false") && !ends_with("/sync") &&
           !ends_with("/shutdown") && !ends_with("/halt");
}

std::vector<std::string> group_names(const PasswdEntry& user,
                                     const std::vector<GroupEntry>& groups) {
    std::vector<std::string> names;
    for (const auto& group : groups) {
        bool member = group.gid == user.gid || std::find(group.members.begin(), group.members.end(),
                                                         user.name) != group.members.end();
        if (member) names.push_back(group.name);
    }
    return names;
}

}  // namespace twofactor::ctl::doctor
