// SPDX-License-Identifier: BSD-2-Clause
// Walks every path through an auth stack, as libpam's dispatcher would run it, in which the
// modules before pam_twofactor.so may succeed or fail. A path that ends in success without
// passing pam_twofactor.so is a way in without the second factor; the line whose action took
// the path past the module (a sufficient module, a done, a jump) is where it comes from.
#include "ctl/doctor/pam_stack.h"

#include <algorithm>
#include <cctype>
#include <set>
#include <tuple>

#include "ctl/doctor/pam_parse.h"

namespace twofactor::ctl::doctor {

namespace {

constexpr int kNone = -1;
// A stack of a thousand lines has at most a few thousand states; this bounds a pathological one.
constexpr std::size_t kMaxStates = 200000;

bool is_jump(const std::string& action) {
    return !action.empty() && std::all_of(action.begin(), action.end(),
                                          [](unsigned char c) { return std::isdigit(c); });
}

// The results a module can return, as libpam's value names: pam_deny only fails and pam_permit
// only succeeds; pam_rootok succeeds only for root, who needs no way in; anything else may do
// either.
std::vector<std::string> results_of(const PamEntry& entry) {
    if (entry.module == "pam_deny.so" || entry.module == "pam_rootok.so") return {"auth_err"};
    if (entry.module == "pam_permit.so") return {"success"};
    return {"success", "auth_err"};
}

// Whether pam_twofactor.so's failure (a wrong code) fails the stack.
bool enforces(const PamEntry& entry) {
    const std::string action = entry.action_for("auth_err");
    return !(action == "ignore" || action == "reset" || is_jump(action));
}

struct State {
    std::size_t at = 0;
    bool succeeded = false;  // a module's success was recorded (libpam's status)
    int culprit = kNone;     // the first line whose action skipped pam_twofactor.so
    bool operator<(const State& o) const {
        return std::tie(at, succeeded, culprit) < std::tie(o.at, o.succeeded, o.culprit);
    }
};

class Walker {
public:
    explicit Walker(const PamStack& stack) : entries_(stack.entries) {}

    // The culprits of the paths that succeed without the module (kNone: no single line skipped
    // it, the module is simply not on that path). Sets `truncated` when the bound was hit.
    std::set<int> bypasses(bool& truncated) {
        std::set<int> culprits;
        std::set<State> seen;
        std::vector<State> todo{State{}};
        while (!todo.empty()) {
            State state = todo.back();
            todo.pop_back();
            if (!seen.insert(state).second) continue;
            if (seen.size() > kMaxStates) {
                truncated = true;
                break;
            }
            if (state.at >= entries_.size()) {
                if (state.succeeded) culprits.insert(state.culprit);
                continue;
            }
            step(state, todo);
        }
        return culprits;
    }

private:
    bool module_between(std::size_t from, std::size_t to) const {
        for (std::size_t i = from; i < to && i < entries_.size(); ++i)
            if (entries_[i].is_twofactor()) return true;
        return false;
    }

    void step(const State& state, std::vector<State>& todo) const {
        const PamEntry& entry = entries_[state.at];
        if (entry.is_twofactor()) return;  // the path meets the module: it asks for the code
        for (const auto& result : results_of(entry)) {
            const std::string action = entry.action_for(result);
            const bool success = result == "success";
            State next = state;
            next.at = state.at + 1;
            if (action == "ignore" || action == "reset") {
                todo.push_back(next);
            } else if (action == "ok") {
                if (!success) continue;  // a recorded failure fails the stack
                next.succeeded = true;
                todo.push_back(next);
            } else if (action == "done") {
                if (!success) continue;
                next.succeeded = true;
                next.at = entry.frame_end;
                if (next.culprit == kNone && module_between(state.at + 1, entry.frame_end))
                    next.culprit = static_cast<int>(state.at);
                todo.push_back(next);
            } else if (is_jump(action)) {
                // libpam jumps without recording the result.
                std::size_t target = state.at + 1 + std::stoul(action.substr(0, 6));
                target = std::min(target, entry.frame_end);
                next.at = target;
                if (next.culprit == kNone && module_between(state.at + 1, target))
                    next.culprit = static_cast<int>(state.at);
                todo.push_back(next);
            }
            // die, bad: the stack fails on this path.
        }
    }

    const std::vector<PamEntry>& entries_;
};

// A problem on one line, reached from several services (common-auth, a service that includes
// another): one finding that names them all.
struct LineProblem {
    Severity severity;
    std::string check, what, file, fix;
    int line;
    std::vector<std::string> services;
};

class Collected {
public:
    void add(const std::string& service, Severity severity, const std::string& check,
             const std::string& what, const std::string& file, int line, const std::string& fix) {
        for (auto& p : problems_)
            if (p.check == check && p.file == file && p.line == line && p.what == what) {
                if (std::find(p.services.begin(), p.services.end(), service) == p.services.end())
                    p.services.push_back(service);
                return;
            }
        problems_.push_back({severity, check, what, file, fix, line, {service}});
    }

    void report(Findings& findings) const {
        for (const auto& p : problems_) {
            std::string services;
            for (const auto& s : p.services) services += (services.empty() ? "" : ", ") + s;
            findings.add(p.severity, p.check, services + ": " + p.what, p.file, p.line, p.fix);
        }
    }

private:
    std::vector<LineProblem> problems_;
};

std::string written(const PamEntry& entry) {
    return "auth " + entry.control + " " + entry.module;
}

void check_service(const Tree& tree, const std::string& service, PamReport& report,
                   Collected& collected, Findings& findings) {
    const PamStack stack = read_auth_stack(tree, service, findings);
    if (stack.service_file.empty()) return;  // not installed: nobody logs in through it

    bool has_module = false;
    for (const auto& entry : stack.entries) {
        if (!entry.is_twofactor()) continue;
        has_module = true;
        auto use = std::find_if(report.uses.begin(), report.uses.end(), [&](const ModuleUse& u) {
            return u.file == entry.file && u.line == entry.line;
        });
        if (use == report.uses.end())
            use = report.uses.insert(report.uses.end(),
                                     ModuleUse{entry.file, entry.line, entry.arguments, {}});
        use->services.push_back(service);
        if (!enforces(entry))
            collected.add(service, Severity::Critical, "pam-optional",
                          "pam_twofactor.so is " + entry.control +
                              ": a wrong code (or none) does not stop the login",
                          entry.file, entry.line,
                          "use `requisite` (after the password) or `required`");
    }
    report.service_has_module[service] = has_module;
    if (stack.refused) return;  // fails closed; the reason is a warning already
    if (!has_module) {
        findings.add(Severity::Critical, "pam-no-module",
                     service + " authenticates without pam_twofactor.so", stack.service_file,
                     stack.first_auth_line,
                     "pam-auth-update --enable twofactor (common-auth), or add `auth requisite "
                     "pam_twofactor.so` after the password in " +
                         stack.service_file);
        return;
    }

    bool truncated = false;
    for (int culprit : Walker(stack).bypasses(truncated)) {
        if (culprit == kNone) {
            findings.add(Severity::Critical, "pam-skipped",
                         service +
                             ": a path through the auth stack succeeds without reaching "
                             "pam_twofactor.so",
                         stack.service_file, stack.first_auth_line,
                         "put pam_twofactor.so where every successful path runs it");
            continue;
        }
        const PamEntry& entry = stack.entries[static_cast<std::size_t>(culprit)];
        const bool jump =
            is_jump(entry.action_for("success")) || is_jump(entry.action_for("auth_err"));
        collected.add(service, Severity::Critical, "pam-skipped",
                      "`" + written(entry) + "` " +
                          (jump ? "jumps over pam_twofactor.so"
                                : "ends the stack before pam_twofactor.so when it succeeds"),
                      entry.file, entry.line,
                      jump ? "make the jump land on or before pam_twofactor.so, or move the module "
                             "above it"
                           : "make it `required`/`requisite`, or move pam_twofactor.so above it");
    }
    if (truncated)
        findings.add(Severity::Warning, "pam-skipped",
                     service + ": the auth stack has too many paths to check them all",
                     stack.service_file, 0, "simplify the stack");
}

}  // namespace

const std::vector<std::string>& checked_services() {
    static const std::vector<std::string> services = {"sshd", "sudo",  "sudo-i",   "su",
                                                      "su-l", "login", "polkit-1", "common-auth"};
    return services;
}

PamReport check_pam_stacks(const Tree& tree, Findings& findings) {
    PamReport report;
    Collected collected;
    for (const auto& service : checked_services())
        check_service(tree, service, report, collected, findings);
    collected.report(findings);
    return report;
}

}  // namespace twofactor::ctl::doctor
