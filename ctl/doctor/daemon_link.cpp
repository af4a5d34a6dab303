// SPDX-License-Identifier: BSD-2-Clause
// Asks the running daemon which of the users who can log in are enrolled (Status, one call per
// user, on one connection), within a time budget.
#include <chrono>

#include "common/client.h"
#include "common/protocol.h"
#include "ctl/doctor/checks.h"
#include "ctl/doctor/passwd.h"

namespace twofactor::ctl::doctor {

namespace {

// Enough for every user of a normal machine; the rest is reported as not checked.
constexpr std::size_t kMaxUsers = 5000;
constexpr std::chrono::seconds kBudget{3};

}  // namespace

bool socket_answers(const std::string& path, std::string& error) {
    try {
        Client client(path, std::chrono::milliseconds(1000));
        return true;
    } catch (const std::exception& e) {
        error = e.what();
        return false;
    }
}

Enrollments ask_daemon(const Tree& tree, const std::string& socket,
                       std::chrono::milliseconds timeout, const PamReport& pam,
                       Findings& findings) {
    Enrollments result;
    result.socket = socket;
    for (const auto& entry : read_passwd(tree))
        if (has_login_shell(entry)) result.login_users.push_back(entry.name);

    std::optional<Client> client;
    try {
        client.emplace(socket, timeout);
        result.reachable = true;
    } catch (const std::exception& e) {
        result.error = e.what();
    }
    if (!result.reachable) {
        const bool used = !pam.uses.empty();
        findings.add(used ? Severity::Critical : Severity::Warning, "daemon-unreachable",
                     "twofactord does not answer on " + socket + " (" + result.error +
                         "): logins that reach the module are refused, or let through with "
                         "failmode=safe; enrollments could not be checked",
                     socket, 0,
                     "systemctl enable --now twofactord.socket; journalctl -u twofactord");
        return result;
    }

    const auto deadline = std::chrono::steady_clock::now() + kBudget;
    std::size_t asked = 0;
    for (const auto& user : result.login_users) {
        if (asked >= kMaxUsers || std::chrono::steady_clock::now() > deadline) {
            findings.add(Severity::Note, "daemon-enrollments",
                         "only " + std::to_string(asked) + " of " +
                             std::to_string(result.login_users.size()) +
                             " users were checked for enrollment in the time allowed",
                         "/etc/passwd", 0, "");
            break;
        }
        ++asked;
        CallResult reply;
        try {
            protocol::json request = {{"user", user}};
            reply = client->call(protocol::method::Status, request);
        } catch (const std::exception& e) {
            findings.add(Severity::Warning, "daemon-unreachable",
                         "twofactord stopped answering on " + socket + ": " + e.what(), socket, 0,
                         "journalctl -u twofactord");
            break;
        }
        if (!reply.ok()) continue;
        const auto& p = reply.parameters;
        const bool enabled = p.value("enabled", false);
        if (!enabled) {
            result.not_enrolled.push_back(user);
            continue;
        }
        const bool texted = p.contains("delivery") && p["delivery"] == "TextMessage";
        const auto left = p.value("recoveryCodesLeft", 0);
        if (texted && left == 0) result.no_recovery.push_back(user);
    }

    if (!result.no_recovery.empty()) {
        std::string names;
        for (const auto& n : result.no_recovery) names += (names.empty() ? "" : ", ") + n;
        findings.add(Severity::Warning, "no-recovery-codes",
                     std::to_string(result.no_recovery.size()) +
                         " enrolled users get their codes by text and have no recovery code "
                         "left: when Twilio fails they are locked out unless they kept the "
                         "secret in an authenticator app (" +
                         names + ")",
                     "", 0, "twofactorctl recovery-codes USER");
    }
    return result;
}

}  // namespace twofactor::ctl::doctor
