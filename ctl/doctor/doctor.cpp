// SPDX-License-Identifier: BSD-2-Clause
#include "ctl/doctor/doctor.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>

#include "ctl/doctor/checks.h"
#include "ctl/output.h"
#include "paths.h"

namespace twofactor::ctl {

namespace {

// The daemon is asked briefly: doctor answers in seconds, and an unreachable daemon is a
// finding, not a reason to wait.
constexpr std::chrono::milliseconds kDaemonTimeout{2000};

}  // namespace

int run_doctor(const Invocation& inv) {
    if (geteuid() != 0) {
        print_error_line(
            "doctor reads PAM, sshd, sudoers and the daemon's secrets: run it as root");
        return kExitUsage;
    }
    std::string root(inv.value("root"));
    if (!root.empty()) {
        struct stat st {};
        if (::stat(root.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
            throw UsageError("--root " + root + " is not a directory");
    }
    const doctor::Tree tree(root);
    doctor::Findings findings;

    const doctor::PamReport pam = doctor::check_pam_stacks(tree, findings);
    const doctor::DaemonConfig daemon = doctor::check_daemon_config(tree, findings);
    // --socket wins; else the socket the configuration names; else the default.
    std::string socket = inv.socket;
    if (socket == paths::kSocket && !daemon.socket.empty()) socket = daemon.socket;
    const doctor::Enrollments enrollments =
        doctor::ask_daemon(tree, socket, std::min(inv.timeout, kDaemonTimeout), pam, findings);
    doctor::check_module_options(tree, pam, daemon, enrollments, findings);
    doctor::check_sshd(tree, std::string(inv.value("sshd-config")), pam, findings);
    doctor::check_sudoers(tree, daemon, findings);
    doctor::check_polkit(tree, findings);

    if (inv.json)
        doctor::print_json_report(findings);
    else
        doctor::print_table(findings);
    return findings.any_problem() ? kExitRefused : kExitSuccess;
}

}  // namespace twofactor::ctl
