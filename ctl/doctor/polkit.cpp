// SPDX-License-Identifier: BSD-2-Clause
// polkit: JavaScript rules that answer polkit.Result.YES (no authentication at all) for running
// programs as root (pkexec) or for package actions, and .policy actions of those kinds whose
// implicit authorization is `yes`. Rules are not evaluated: a YES is flagged when the rule
// that returns it names such an action, or names no action at all (then it answers for all).
#include <algorithm>

#include "ctl/doctor/checks.h"

namespace twofactor::ctl::doctor {

namespace {

const char* const kRuleDirectories[] = {"/etc/polkit-1/rules.d", "/usr/share/polkit-1/rules.d"};
const char* const kActionDirectory = "/usr/share/polkit-1/actions";

bool ends_with(const std::string& text, const std::string& tail) {
    return text.size() >= tail.size() &&
           text.compare(text.size() - tail.size(), tail.size(), tail) == 0;
}

// Actions that run a program of the caller's choice as root, or install software of its
// choice (or a source or key to install it from). Refreshing sources or installing the
// distribution's updates (PackageKit's upgrade-system, which Debian grants to active sudo users)
// is not among them.
bool powerful(const std::string& text) {
    static const char* const kActions[] = {
        "org.freedesktop.policykit.exec",
        "org.freedesktop.packagekit.package-install",
        "org.freedesktop.packagekit.package-remove",
        "org.freedesktop.packagekit.package-downgrade",
        "org.freedesktop.packagekit.package-reinstall",
        "org.freedesktop.packagekit.repair-system",
        "org.freedesktop.packagekit.system-sources-configure",
        "org.freedesktop.packagekit.system-trust-signing-key",
    };
    const std::string l = lower(text);
    return std::any_of(std::begin(kActions), std::end(kActions),
                       [&](const char* action) { return l.find(action) != std::string::npos; });
}

void check_rules_file(const Tree& tree, const std::string& path, Findings& findings) {
    TextFile file;
    if (!tree.read_or_report(path, file, findings, "polkit-rule-yes")) return;
    std::size_t rule_start = 0;  // the line of the latest addRule
    for (std::size_t i = 0; i < file.lines.size(); ++i) {
        const std::string& line = file.lines[i];
        if (line.find("addRule") != std::string::npos) rule_start = i;
        if (line.find("polkit.Result.YES") == std::string::npos) continue;
        std::string rule;
        for (std::size_t k = rule_start; k <= i; ++k) rule += file.lines[k] + "\n";
        const bool names_action = rule.find("action.id") != std::string::npos;
        if (names_action && !powerful(rule)) continue;
        findings.add(Severity::Critical, "polkit-rule-yes",
                     names_action ? "a polkit rule answers YES (no password, no code) for "
                                    "running programs as root or installing packages"
                                  : "a polkit rule answers YES (no password, no code) whatever "
                                    "the action, pkexec and package installs included",
                     path, static_cast<int>(i) + 1,
                     "answer polkit.Result.AUTH_ADMIN (or AUTH_ADMIN_KEEP) instead");
    }
}

// One <action id="..."> ... </action> at a time: its id, and the <allow_*>yes</allow_*> lines.
void check_policy_file(const Tree& tree, const std::string& path, Findings& findings) {
    TextFile file;
    if (!tree.read_or_report(path, file, findings, "polkit-action-yes")) return;
    std::string id;
    bool runs_programs = false;
    std::vector<std::pair<int, std::string>> yes_lines;
    auto finish = [&] {
        if (!id.empty() && (powerful(id) || runs_programs))
            for (const auto& [line, key] : yes_lines)
                findings.add(Severity::Critical, "polkit-action-yes",
                             "action " + id + ": " + key +
                                 " is yes, so it is granted with no password and no code",
                             path, line, "set " + key + " to auth_admin");
        id.clear();
        runs_programs = false;
        yes_lines.clear();
    };
    for (std::size_t i = 0; i < file.lines.size(); ++i) {
        const std::string& line = file.lines[i];
        if (auto at = line.find("<action id=\""); at != std::string::npos) {
            finish();
            auto start = at + 12;
            id = line.substr(start, line.find('"', start) - start);
        }
        if (line.find("org.freedesktop.policykit.exec.path") != std::string::npos)
            runs_programs = true;
        for (const char* key : {"allow_any", "allow_inactive", "allow_active"}) {
            const std::string open = std::string("<") + key + ">";
            auto at = line.find(open);
            if (at == std::string::npos) continue;
            auto value_start = at + open.size();
            std::string value =
                trim(line.substr(value_start, line.find('<', value_start) - value_start));
            if (value == "yes") yes_lines.emplace_back(static_cast<int>(i) + 1, key);
        }
        if (line.find("</action>") != std::string::npos) finish();
    }
    finish();
}

}  // namespace

void check_polkit(const Tree& tree, Findings& findings) {
    for (const char* directory : kRuleDirectories)
        for (const auto& name : tree.list(directory))
            if (ends_with(name, ".rules"))
                check_rules_file(tree, std::string(directory) + "/" + name, findings);
    for (const auto& name : tree.list(kActionDirectory))
        if (ends_with(name, ".policy"))
            check_policy_file(tree, std::string(kActionDirectory) + "/" + name, findings);
}

}  // namespace twofactor::ctl::doctor
