// SPDX-License-Identifier: BSD-2-Clause
// `twofactorctl enroll`: the FusionAuth set-up flow for one person at a terminal. Generate a
// secret, get a code to the person (a text, or an authenticator app they add the secret to),
// and enable once they type it back.
#include <unistd.h>

#include <cstdio>
#include <optional>

#include "ctl/commands.h"
#include "ctl/input.h"
#include "ctl/otpauth.h"
#include "ctl/output.h"
#include "ctl/qr_code.h"
#include "ctl/recovery_codes.h"

namespace twofactor::ctl {

namespace method = protocol::method;

namespace {

constexpr int kCodeTries = 3;
constexpr std::string_view kIssuer = "twofactor";

std::string host_name() {
    char name[256] = {};
    if (gethostname(name, sizeof name - 1) != 0 || name[0] == '\0') return "localhost";
    return name;
}

// Information for the person: stdout, unless stdout is reserved for --json's one object.
void tell(const Invocation& inv, std::string_view line) {
    if (!inv.json) {
        print_line(line);
        return;
    }
    std::fwrite(line.data(), 1, line.size(), stderr);
    std::fputc('\n', stderr);
}

std::string ask_phone() {
    auto answer = ask("Mobile phone number: ");
    if (!answer || answer->empty())
        throw UsageError("enroll needs a mobile phone number (--phone or an answer to the prompt)");
    return std::string(answer->view());
}

// Tells the person where the code comes from. An exit status (after reporting) if that failed.
std::optional<int> deliver(Session& session, const Invocation& inv, const std::string& user,
                           bool texted, const std::string& phone, const SecureString& secret,
                           const SecureString& base32) {
    if (!texted) {
        tell(inv, "Add this key to your authenticator app, or scan the QR code below:");
        SecureString key_line("secretBase32Encoded: " + std::string(base32.view()));
        tell(inv, key_line.view());
        SecureString uri = otpauth_uri(kIssuer, user + "@" + host_name(), base32.view());
        SecureString uri_line("uri: " + std::string(uri.view()));
        tell(inv, uri_line.view());
        for (const auto& line : qr_code_lines(uri.view())) tell(inv, line);
        return std::nullopt;
    }
    json request = {{"mobilePhone", phone}, {"secret", secret.view()}};
    auto sent = session.call(method::SendCode, request);
    if (!sent.ok()) return report_error(sent, inv.json);
    tell(inv,
         "A code was sent to " + text_field(sent.parameters, "mobilePhone", "the phone") + ".");
    return std::nullopt;
}

}  // namespace

int run_enroll(Session& session, const Invocation& inv) {
    std::string user = inv.operands.empty() ? caller_user_name() : inv.operands.front();
    bool texted = inv.value("delivery") != "None";
    std::string phone(inv.value("phone"));
    if (texted && phone.empty()) phone = ask_phone();

    json none = json::object();
    auto generated = session.call(method::GenerateSecret, none);
    if (!generated.ok()) return report_error(generated, inv.json);
    SecureString secret(text_field(generated.parameters, "secret"));
    SecureString base32(text_field(generated.parameters, "secretBase32Encoded"));
    wipe_json(generated.parameters);
    if (secret.empty() || base32.empty()) {
        print_error_line("the daemon's answer to GenerateSecret holds no secret");
        return kExitRefused;
    }

    if (auto failed = deliver(session, inv, user, texted, phone, secret, base32)) return *failed;

    for (int attempt = 1; attempt <= kCodeTries; ++attempt) {
        auto code = ask(texted ? "Code from the text message: " : "Code from the app: ");
        if (!code) {
            print_error_line("no code was entered; two-factor authentication is not enabled");
            return kExitRefused;
        }
        json request = {{"user", user},
                        {"secret", secret.view()},
                        {"code", code->view()},
                        {"delivery", texted ? "TextMessage" : "None"}};
        if (texted) request["mobilePhone"] = phone;
        auto result = session.call(method::Enable, request);
        if (result.ok()) {
            if (inv.json) {
                print_json(result.parameters);
            } else {
                print_line("Two-factor authentication is enabled for " +
                           text_field(result.parameters, "user", user) + ".");
                print_recovery_codes(result.parameters);
            }
            wipe_json(result.parameters);
            return kExitSuccess;
        }
        bool may_retry = result.error == protocol::error::InvalidCode && attempt < kCodeTries;
        if (!may_retry) return report_error(result, inv.json);
        print_error_line(error_sentence(result) + " (" + tries_left(kCodeTries - attempt) + ")");
    }
    return kExitRefused;  // not reached: the last try returns above
}

}  // namespace twofactor::ctl
