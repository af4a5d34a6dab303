// SPDX-License-Identifier: BSD-2-Clause
// Global options may stand anywhere on the line (`twofactorctl status --json` works like
// `twofactorctl --json status`); each command accepts only its own options.
#include "ctl/arguments.h"

#include <openssl/crypto.h>

#include <charconv>
#include <cstring>
#include <optional>

#include "paths.h"

namespace twofactor::ctl {

namespace {

struct CommandSpec {
    std::string_view name;
    std::size_t min_operands;
    std::size_t max_operands;
    std::vector<std::string_view> options;  // each takes a value
};

const std::vector<CommandSpec>& command_specs() {
    static const std::vector<CommandSpec> specs = {
        {"secret", 0, 0, {}},
        {"send", 0, 0, {"phone", "secret", "two-factor-id"}},
        {"enable", 1, 1, {"secret", "code", "phone", "delivery", "current-code", "two-factor-id"}},
        {"disable", 1, 1, {"code", "two-factor-id"}},
        {"status", 0, 1, {}},
        {"unlock", 1, 1, {}},
        {"forget", 1, 1, {}},
        {"login", 1, 1, {"ip-address"}},
        {"complete", 0, 0, {"two-factor-id", "code", "ip-address"}},
        {"enroll", 0, 1, {"phone", "delivery"}},
        {"recovery-codes", 0, 1, {"code", "two-factor-id"}},
        {"doctor", 0, 0, {"root", "sshd-config"}},
    };
    return specs;
}

const CommandSpec* find_command(std::string_view name) {
    for (const auto& spec : command_specs())
        if (spec.name == name) return &spec;
    return nullptr;
}

bool is_command_option(std::string_view name) {
    for (const auto& spec : command_specs())
        for (auto option : spec.options)
            if (option == name) return true;
    return false;
}

// Values worth hiding from other users' `ps`.
bool is_sensitive(std::string_view name) {
    return name == "secret" || name == "code" || name == "current-code";
}

std::string option_name(std::string_view name) {
    return "--" + std::string(name);
}

// Seconds as a positive decimal number, at most an hour.
std::chrono::milliseconds parse_timeout(std::string_view text) {
    double seconds = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), seconds);
    if (ec != std::errc() || end != text.data() + text.size() || !(seconds > 0) || seconds > 3600)
        throw UsageError("--timeout wants a number of seconds between 0 and 3600, not '" +
                         std::string(text) + "'");
    auto ms = static_cast<long long>(seconds * 1000);
    return std::chrono::milliseconds(ms < 1 ? 1 : ms);
}

void check_delivery(const Invocation& inv) {
    if (!inv.has("delivery")) return;
    auto delivery = inv.value("delivery");
    if (delivery != "TextMessage" && delivery != "None")
        throw UsageError("--delivery is TextMessage or None, not '" + std::string(delivery) + "'");
    if (delivery == "None" && inv.has("phone"))
        throw UsageError("--phone goes with --delivery TextMessage, not with None");
}

void require(const Invocation& inv, std::string_view option) {
    if (!inv.has(option)) throw UsageError(inv.command + " needs " + option_name(option));
}

// Rules that tie options of one command together.
void check_combinations(const Invocation& inv) {
    const std::string& command = inv.command;
    if (command == "send") {
        if (inv.has("two-factor-id")) {
            if (inv.has("phone") || inv.has("secret"))
                throw UsageError(
                    "send takes either --two-factor-id (send the login code again) or --phone "
                    "and --secret (setup), not both");
        } else if (!inv.has("phone") || !inv.has("secret")) {
            throw UsageError("send needs --phone and --secret, or --two-factor-id");
        }
        if (inv.call && !inv.has("two-factor-id"))
            throw UsageError(
                "send takes --call only with --two-factor-id: a call reads a "
                "login's code");
    } else if (command == "enable") {
        require(inv, "secret");
        require(inv, "code");
        check_delivery(inv);
        if (inv.value("delivery") != "None" && !inv.has("phone"))
            throw UsageError("enable needs --phone when codes are texted (--delivery TextMessage)");
        if (inv.has("two-factor-id") && !inv.has("current-code"))
            throw UsageError("enable takes --two-factor-id only with --current-code");
    } else if (command == "disable" || command == "recovery-codes") {
        if (inv.has("two-factor-id") && !inv.has("code"))
            throw UsageError(command + " takes --two-factor-id only with --code");
    } else if (command == "enroll") {
        check_delivery(inv);
    } else if (command == "complete") {
        require(inv, "two-factor-id");
        require(inv, "code");
    }
}

void check_operands(const Invocation& inv, const CommandSpec& spec) {
    auto count = inv.operands.size();
    if (count < spec.min_operands) throw UsageError(inv.command + " needs a user name");
    if (count > spec.max_operands) {
        const std::string& extra = inv.operands[spec.max_operands];
        throw UsageError(spec.max_operands == 0
                             ? inv.command + " takes no operands, but got '" + extra + "'"
                             : inv.command + " takes one user name, but also got '" + extra + "'");
    }
    for (const auto& operand : inv.operands)
        if (operand.empty()) throw UsageError("the user name is empty");
}

}  // namespace

std::string_view Invocation::value(std::string_view name) const {
    auto it = options.find(name);
    return it == options.end() ? std::string_view() : it->second.view();
}

Invocation parse_arguments(int argc, char** argv) {
    Invocation inv;
    inv.socket = paths::kSocket;
    bool socket_given = false;
    bool timeout_given = false;
    bool options_ended = false;
    std::vector<std::string> positionals;

    for (int i = 1; i < argc; ++i) {
        std::string_view arg = argv[i];
        if (options_ended || arg == "-" || arg.empty() || arg.front() != '-') {
            positionals.emplace_back(arg);
            continue;
        }
        if (arg == "--") {
            options_ended = true;
            continue;
        }
        if (arg == "-h") {
            inv.help = true;
            continue;
        }
        if (arg.substr(0, 2) != "--") throw UsageError("unknown option '" + std::string(arg) + "'");

        std::string_view body = arg.substr(2);
        std::optional<std::string_view> inline_value;
        char* value_bytes = nullptr;  // where the value sits in argv, to wipe secrets
        if (auto eq = body.find('='); eq != std::string_view::npos) {
            inline_value = body.substr(eq + 1);
            value_bytes = argv[i] + 2 + eq + 1;
            body = body.substr(0, eq);
        }
        std::string name(body);

        if (name == "call") {
            if (inline_value) throw UsageError("--call takes no value");
            inv.call = true;
            continue;
        }
        if (name == "json" || name == "help" || name == "version") {
            if (inline_value) throw UsageError("--" + name + " takes no value");
            if (name == "json") inv.json = true;
            if (name == "help") inv.help = true;
            if (name == "version") inv.version = true;
            continue;
        }
        bool global = name == "socket" || name == "timeout";
        if (!global && !is_command_option(name))
            throw UsageError("unknown option '--" + name + "'");

        std::string_view value;
        if (inline_value) {
            value = *inline_value;
        } else {
            if (i + 1 >= argc) throw UsageError("--" + name + " needs a value");
            value_bytes = argv[++i];
            value = value_bytes;
        }
        if (value.empty()) throw UsageError("--" + name + " needs a value");

        if (name == "socket") {
            if (socket_given) throw UsageError("--socket given twice");
            inv.socket = std::string(value);
            socket_given = true;
        } else if (name == "timeout") {
            if (timeout_given) throw UsageError("--timeout given twice");
            inv.timeout = parse_timeout(value);
            timeout_given = true;
        } else {
            if (inv.has(name)) throw UsageError("--" + name + " given twice");
            inv.options.emplace(name, SecureString(value));
            if (is_sensitive(name) && value != "-")
                OPENSSL_cleanse(value_bytes, std::strlen(value_bytes));
        }
    }

    if (inv.help || inv.version) return inv;
    if (positionals.empty()) throw UsageError("no command given");
    inv.command = positionals.front();
    inv.operands.assign(positionals.begin() + 1, positionals.end());

    const CommandSpec* spec = find_command(inv.command);
    if (spec == nullptr) throw UsageError("unknown command '" + inv.command + "'");
    for (const auto& [name, value] : inv.options) {
        bool allowed = false;
        for (auto option : spec->options) allowed = allowed || option == name;
        if (!allowed) throw UsageError(inv.command + " does not take --" + name);
    }
    if (inv.call && inv.command != "send") throw UsageError(inv.command + " does not take --call");
    check_operands(inv, *spec);
    check_combinations(inv);
    return inv;
}

std::string usage_text() {
    return R"(Usage: twofactorctl [--json] [--socket PATH] [--timeout SECONDS] COMMAND [ARGS]

Commands:
  secret                               generate a new two-factor secret
  send --phone P --secret S            text the code of secret S to P (setup)
  send --two-factor-id ID [--call]     text the code of a login challenge again, or with
                                       --call ring the phone and read it ([voice] enabled)
  enable USER --secret S --code C [--phone P] [--delivery TextMessage|None]
         [--current-code C [--two-factor-id ID]]
                                       turn two-factor on for USER (code checked first);
                                       over an existing one, a user proves it with its code
  disable USER [--code C [--two-factor-id ID]]
                                       turn two-factor off for USER (a user gives a code of
                                       it, or is asked for one; root needs none)
  status [USER]                        show USER's two-factor state (default: you; root
                                       without USER: texts sent today and their conversion)
  unlock USER                          clear USER's lockout and failure count (root)
  forget USER                          end USER's trusts (the module's trust=)
  login USER [--ip-address IP]         start a login challenge, print its twoFactorId
  complete --two-factor-id ID --code C [--ip-address IP]
                                       answer a login challenge
  enroll [USER] [--phone P] [--delivery TextMessage|None]
                                       set up two-factor interactively
  recovery-codes [USER] [--code C [--two-factor-id ID]]
                                       replace USER's recovery codes with 10 new ones (a
                                       user gives a code, or is asked for one; root needs none)
  doctor [--root DIR] [--sshd-config FILE]
                                       list every way in that skips the second factor (root);
                                       exit 0 none found, 1 found

Options:
  --json             print the daemon's reply (or error) as JSON on standard output
  --socket PATH      the daemon's socket (default )" +
           std::string(paths::kSocket) + R"()
  --timeout SECONDS  how long to wait for the daemon (default 30)
  --help, --version

'--secret -', '--code -' and '--current-code -' read the value from standard input.
Exit status: 0 success, 1 refused, 2 usage error, 69 daemon unreachable.
)";
}

}  // namespace twofactor::ctl
