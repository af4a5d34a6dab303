// SPDX-License-Identifier: BSD-2-Clause
#include "ctl/commands.h"

#include <unistd.h>

#include "common/accounts.h"
#include "ctl/current_factor.h"
#include "ctl/doctor/doctor.h"
#include "ctl/input.h"
#include "ctl/output.h"
#include "ctl/recovery_codes.h"

namespace twofactor::ctl {

namespace method = protocol::method;

namespace {

// Prints "label: value" for a field that may be secret, leaving no copy behind.
void print_secret_field(std::string_view label, const json& parameters, std::string_view key) {
    std::string line = std::string(label) + ": " + text_field(parameters, key);
    print_line(line);
    wipe(line);
}

// With --json the reply goes out as it came; otherwise `describe` prints sentences.
template <typename Describe>
int finish(CallResult& result, const Invocation& inv, Describe describe) {
    int status = kExitSuccess;
    if (!result.ok())
        status = report_error(result, inv.json);
    else if (inv.json)
        print_json(result.parameters);
    else
        describe(result.parameters);
    wipe_json(result.parameters);
    return status;
}

std::string masked_phone_or(const json& p, std::string_view fallback) {
    return text_field(p, "mobilePhone", fallback);
}

int run_secret(Session& session, const Invocation& inv) {
    json request = json::object();
    auto result = session.call(method::GenerateSecret, request);
    return finish(result, inv, [](const json& p) {
        print_secret_field("secret", p, "secret");
        print_secret_field("secretBase32Encoded", p, "secretBase32Encoded");
    });
}

int run_send(Session& session, const Invocation& inv) {
    json request;
    if (inv.has("two-factor-id")) {
        request = {{"twoFactorId", inv.value("two-factor-id")}};
        if (inv.call) request["delivery"] = "Call";
    } else {
        SecureString secret = option_or_stdin(inv.value("secret"), "secret");
        request = {{"mobilePhone", inv.value("phone")}, {"secret", secret.view()}};
    }
    auto result = session.call(method::SendCode, request);
    return finish(result, inv, [](const json& p) {
        if (text_field(p, "delivery", "") == "Call")
            print_line("Calling " + masked_phone_or(p, "the phone") + " to read the code.");
        else
            print_line("A code was sent to " + masked_phone_or(p, "the phone") + ".");
    });
}

int run_enable(Session& session, const Invocation& inv) {
    const std::string& user = inv.operands.at(0);
    std::string delivery(inv.has("delivery") ? inv.value("delivery") : "TextMessage");
    SecureString secret = option_or_stdin(inv.value("secret"), "secret");
    SecureString code = option_or_stdin(inv.value("code"), "code");
    json request = {
        {"user", user}, {"secret", secret.view()}, {"code", code.view()}, {"delivery", delivery}};
    if (delivery == "TextMessage") request["mobilePhone"] = inv.value("phone");
    if (int status =
            add_current_factor_code(session, inv, user, "current-code", "currentCode", request);
        status != kExitSuccess)
        return status;
    auto result = session.call(method::Enable, request);
    return finish(result, inv, [&](const json& p) {
        std::string who = text_field(p, "user", user);
        if (text_field(p, "delivery", delivery) == "None")
            print_line("Two-factor authentication is enabled for " + who +
                       "; codes come from an authenticator app.");
        else
            print_line("Two-factor authentication is enabled for " + who +
                       "; codes are texted to " + masked_phone_or(p, "the phone") + ".");
        print_recovery_codes(p);
    });
}

int run_disable(Session& session, const Invocation& inv) {
    const std::string& user = inv.operands.at(0);
    json request = {{"user", user}};
    if (int status = add_current_factor_code(session, inv, user, "code", "code", request);
        status != kExitSuccess)
        return status;
    auto result = session.call(method::Disable, request);
    return finish(result, inv, [&](const json& p) {
        print_line("Two-factor authentication is disabled for " + text_field(p, "user", user) +
                   ".");
    });
}

// One line per live trust: "trusted: SERVICE from ORIGIN until TIME on HOST" (the host that
// made it, the only one where it is honoured), or "trusted: none".
void print_trusts(const json& p) {
    auto trusts = p.find("trusts");
    if (trusts == p.end() || !trusts->is_array() || trusts->empty()) {
        print_line("trusted: none");
        return;
    }
    for (const json& t : *trusts) {
        if (!t.is_object()) continue;
        std::string line =
            "trusted: " + text_field(t, "service", "?") + " from " + text_field(t, "origin", "?");
        if (auto until = integer_field(t, "trustedUntil")) line += " until " + local_time(*until);
        if (auto host = t.find("host"); host != t.end() && host->is_string())
            line += " on " + host->get<std::string>();
        print_line(line);
    }
}

// Root's `status` without a user: what texts cost, fleet-wide, and how many texted codes are
// used (DESIGN.md §16).
int run_sms_status(Session& session, const Invocation& inv) {
    json request = json::object();
    auto result = session.call(method::Status, request);
    return finish(result, inv, [&](const json& p) {
        const json none = json::object();
        const json& today = p.contains("textsToday") ? p["textsToday"] : none;
        print_line("texts today: " + text_field(today, "sent", "0") + " of " +
                   text_field(today, "limit", "?") + " (texts_per_day)");
        if (auto prefixes = p.find("busiestPrefixes"); prefixes != p.end() && prefixes->is_array())
            for (const json& b : *prefixes)
                print_line("texts today to " + text_field(b, "prefix", "?") +
                           "XXXX: " + text_field(b, "sent", "0") + " of " +
                           text_field(b, "limit", "?") + " (texts_per_prefix_per_day)");
        const json& c = p.contains("conversion") ? p["conversion"] : none;
        std::string line = "conversion: " + text_field(c, "completed", "0") + " of the last " +
                           text_field(c, "judged", "0") + " texted logins completed";
        if (auto percent = integer_field(c, "percent"))
            line += " (" + std::to_string(*percent) + "%)";
        print_line(line);
    });
}

int run_status(Session& session, const Invocation& inv) {
    if (inv.operands.empty() && ::getuid() == 0) return run_sms_status(session, inv);
    std::string user = inv.operands.empty() ? caller_user_name() : inv.operands.front();
    json request = {{"user", user}};
    auto result = session.call(method::Status, request);
    return finish(result, inv, [&](const json& p) {
        print_line("user: " + text_field(p, "user", user));
        print_line(std::string("enabled: ") + (bool_field(p, "enabled") ? "yes" : "no"));
        print_line("delivery: " + text_field(p, "delivery", "none"));
        print_line("mobilePhone: " + masked_phone_or(p, "none"));
        std::string locked = bool_field(p, "locked") ? "yes" : "no";
        if (auto until = integer_field(p, "lockedUntil"); until && bool_field(p, "locked"))
            locked += ", until " + local_time(*until);
        print_line("locked: " + locked);
        print_line("failures: " + text_field(p, "failures", "0"));
        print_line("recoveryCodesLeft: " + text_field(p, "recoveryCodesLeft", "0"));
        print_trusts(p);
    });
}

int run_forget(Session& session, const Invocation& inv) {
    const std::string& user = inv.operands.at(0);
    json request = {{"user", user}};
    auto result = session.call(method::Forget, request);
    return finish(result, inv, [&](const json& p) {
        const auto forgotten = integer_field(p, "forgotten").value_or(0);
        print_line(text_field(p, "user", user) + ": " + std::to_string(forgotten) +
                   (forgotten == 1 ? " trust" : " trusts") + " forgotten.");
    });
}

int run_unlock(Session& session, const Invocation& inv) {
    const std::string& user = inv.operands.at(0);
    json request = {{"user", user}};
    auto result = session.call(method::Unlock, request);
    return finish(result, inv, [&](const json& p) {
        print_line(text_field(p, "user", user) + " is unlocked.");
    });
}

// Begin's `textNotSent`: the challenge is open all the same, for an app or recovery code.
std::string not_texted(const json& refusal, const std::string& phone) {
    CallResult why{text_field(refusal, "error"), refusal.value("parameters", json::object())};
    std::string said = "The code was not texted to " + phone + " (" + error_sentence(why) +
                       "). Use the code of the authenticator app or a recovery code.";
    if (integer_field(why.parameters, "code") == 21610)
        said +=
            " The number has opted out of text messages; replying START to the number the "
            "codes come from turns them back on.";
    return said;
}

int run_login(Session& session, const Invocation& inv) {
    const std::string& user = inv.operands.at(0);
    json request = {{"user", user}, {"service", "twofactorctl"}};
    if (inv.has("ip-address")) request["ipAddress"] = inv.value("ip-address");
    if (const char* tty = isatty(STDIN_FILENO) ? ttyname(STDIN_FILENO) : nullptr)
        request["tty"] = tty;
    auto result = session.call(method::Begin, request);
    return finish(result, inv, [&](const json& p) {
        std::string id = text_field(p, "twoFactorId");
        print_line("twoFactorId: " + id);
        std::string where = text_field(p, "delivery") == "None"
                                ? "Use the code of the authenticator app."
                                : "A code was sent to " + masked_phone_or(p, "the phone") + ".";
        if (auto refusal = p.find("textNotSent"); refusal != p.end() && refusal->is_object())
            where = not_texted(*refusal, masked_phone_or(p, "the phone"));
        if (auto expires = integer_field(p, "expiresIn"))
            where += " It expires in " + std::to_string(*expires) + " seconds";
        if (auto attempts = integer_field(p, "attemptsLeft")) where += "; " + tries_left(*attempts);
        print_line(where + ".");
        print_line("Answer with: twofactorctl complete --two-factor-id " + id + " --code CODE");
    });
}

int run_complete(Session& session, const Invocation& inv) {
    SecureString code = option_or_stdin(inv.value("code"), "code");
    json request = {{"twoFactorId", inv.value("two-factor-id")}, {"code", code.view()}};
    if (inv.has("ip-address")) request["ipAddress"] = inv.value("ip-address");
    auto result = session.call(method::Complete, request);
    return finish(result, inv, [](const json& p) {
        print_line("Two-factor authentication succeeded for " + text_field(p, "user", "the user") +
                   ".");
        if (auto left = integer_field(p, "recoveryCodesLeft"))
            print_line("A recovery code was used; " + std::to_string(*left) + " left.");
    });
}

struct CommandEntry {
    std::string_view name;
    int (*run)(Session&, const Invocation&);
};

}  // namespace

std::string caller_user_name() {
    uid_t uid = getuid();
    auto account = account_of(uid);
    if (!account)
        throw UsageError("uid " + std::to_string(uid) + " has no user name; name the user");
    return account->name;
}

int run_command(const Invocation& inv) {
    if (inv.command == "doctor") return run_doctor(inv);
    static constexpr CommandEntry kCommands[] = {
        {"secret", run_secret},
        {"send", run_send},
        {"enable", run_enable},
        {"disable", run_disable},
        {"status", run_status},
        {"unlock", run_unlock},
        {"forget", run_forget},
        {"login", run_login},
        {"complete", run_complete},
        {"enroll", run_enroll},
        {"recovery-codes", run_recovery_codes},
    };
    Session session(inv.socket, inv.timeout);
    for (const auto& entry : kCommands)
        if (entry.name == inv.command) return entry.run(session, inv);
    throw UsageError("unknown command '" + inv.command + "'");
}

}  // namespace twofactor::ctl
