// SPDX-License-Identifier: BSD-2-Clause
// The options on each pam_twofactor.so line the checked services run: the ones that let a
// login through without a code (failmode=safe, nullok, groups=), or for long (trust=), or
// point at a socket nobody serves.
#include <fnmatch.h>

#include <algorithm>

#include "ctl/doctor/checks.h"
#include "ctl/doctor/passwd.h"

namespace twofactor::ctl::doctor {

namespace {

constexpr long long kTrustWarnSeconds = 3600;
constexpr std::size_t kNamesShown = 20;
const char* const kAdminGroups[] = {"sudo", "adm", "wheel"};

std::string services_of(const ModuleUse& use) {
    std::string text;
    for (const auto& s : use.services) text += (text.empty() ? "" : ", ") + s;
    return text;
}

std::string name_list(const std::vector<std::string>& names) {
    std::string text;
    for (std::size_t i = 0; i < names.size() && i < kNamesShown; ++i)
        text += (i ? ", " : "") + names[i];
    if (names.size() > kNamesShown) text += ", ...";
    return text;
}

// The module's groups= semantics (shell patterns, `!` excludes; see the module's options).
bool inside_groups(const std::string& value, const std::vector<std::string>& groups) {
    std::vector<std::string> include, exclude;
    std::size_t start = 0;
    while (start <= value.size()) {
        auto comma = value.find(',', start);
        std::string item = value.substr(start, comma == std::string::npos ? comma : comma - start);
        if (!item.empty() && item.front() == '!')
            exclude.push_back(item.substr(1));
        else if (!item.empty())
            include.push_back(item);
        if (comma == std::string::npos) break;
        start = comma + 1;
    }
    bool included = false;
    for (const auto& group : groups) {
        for (const auto& pattern : exclude)
            if (!pattern.empty() && fnmatch(pattern.c_str(), group.c_str(), 0) == 0) return false;
        for (const auto& pattern : include)
            included = included || fnmatch(pattern.c_str(), group.c_str(), 0) == 0;
    }
    return included;
}

// Members of sudo, adm and wheel whom the patterns leave out (they get PAM_IGNORE: no code).
std::vector<std::string> admins_left_out(const Tree& tree, const std::string& value) {
    const auto users = read_passwd(tree);
    const auto groups = read_groups(tree);
    std::vector<std::string> left_out;
    for (const auto& user : users) {
        const auto names = group_names(user, groups);
        const bool admin = std::any_of(names.begin(), names.end(), [](const std::string& n) {
            return std::find(std::begin(kAdminGroups), std::end(kAdminGroups), n) !=
                   std::end(kAdminGroups);
        });
        if (admin && !inside_groups(value, names)) left_out.push_back(user.name);
    }
    return left_out;
}

void check_use(const Tree& tree, const ModuleUse& use, const DaemonConfig& daemon,
               const Enrollments& enrollments, Findings& findings) {
    const std::string services = services_of(use);
    bool failmode_safe = false;
    for (const auto& option : use.options)
        if (option == "failmode=safe") failmode_safe = true;
    if (failmode_safe)
        findings.add(enrollments.reachable ? Severity::Warning : Severity::Critical,
                     "option-failmode-safe",
                     services +
                         ": failmode=safe lets every login through without a code while "
                         "twofactord is down" +
                         (enrollments.reachable ? "" : ", and it is down now"),
                     use.file, use.line, "remove failmode=safe (the default is failmode=secure)");

    for (const auto& option : use.options) {
        auto eq = option.find('=');
        const std::string name = option.substr(0, eq);
        const std::string value = eq == std::string::npos ? "" : option.substr(eq + 1);
        if (option == "nullok") {
            if (!enrollments.reachable)
                findings.add(Severity::Warning, "option-nullok",
                             services +
                                 ": nullok lets users who never enrolled in with the "
                                 "password alone; twofactord could not be asked who they "
                                 "are",
                             use.file, use.line,
                             "start twofactord and run doctor again; remove nullok once everyone "
                             "is enrolled");
            else if (!enrollments.not_enrolled.empty())
                findings.add(
                    Severity::Critical, "option-nullok",
                    services + ": nullok lets " + std::to_string(enrollments.not_enrolled.size()) +
                        " users with a login shell and no enrollment in with the "
                        "password alone: " +
                        name_list(enrollments.not_enrolled),
                    use.file, use.line, "enroll them (twofactorctl enroll), then remove nullok");
        } else if (name == "trust" && !value.empty()) {
            long long seconds = 0;
            try {
                seconds = std::stoll(value);
            } catch (const std::exception&) {
                continue;  // the module ignores a malformed value
            }
            seconds = std::min(seconds, daemon.trust_max_seconds);
            if (seconds > kTrustWarnSeconds)
                findings.add(Severity::Warning, "option-trust",
                             services + ": trust=" + value + " skips the code for " +
                                 std::to_string(seconds) +
                                 " s after a right one, for anyone at the same terminal or "
                                 "address",
                             use.file, use.line, "trust=3600 or less");
        } else if (name == "groups") {
            auto left_out = admins_left_out(tree, value);
            if (!left_out.empty())
                findings.add(Severity::Critical, "option-groups",
                             services + ": groups=" + value + " leaves out " +
                                 std::to_string(left_out.size()) +
                                 " members of sudo, adm or wheel, who log in without a code: " +
                                 name_list(left_out),
                             use.file, use.line,
                             "add their groups to groups=, e.g. groups=sudo,adm,wheel,...");
        } else if (name == "socket" && !value.empty()) {
            std::string error;
            if (!socket_answers(value, error))
                findings.add(
                    failmode_safe ? Severity::Critical : Severity::Warning, "option-socket",
                    services + ": socket=" + value + " is served by nobody (" + error + "): " +
                        (failmode_safe ? "with failmode=safe every login goes through"
                                       : "every login that reaches the module is refused"),
                    use.file, use.line, "point socket= at twofactord's socket, or remove it");
        }
    }
}

}  // namespace

void check_module_options(const Tree& tree, const PamReport& pam, const DaemonConfig& daemon,
                          const Enrollments& enrollments, Findings& findings) {
    for (const auto& use : pam.uses) check_use(tree, use, daemon, enrollments, findings);
}

}  // namespace twofactor::ctl::doctor
