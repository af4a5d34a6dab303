// SPDX-License-Identifier: BSD-2-Clause
#include "ctl/current_factor.h"

#include <unistd.h>

#include "ctl/input.h"
#include "ctl/output.h"

namespace twofactor::ctl {

namespace method = protocol::method;

int add_current_factor_code(Session& session, const Invocation& inv, const std::string& user,
                            std::string_view option, const char* field, protocol::json& request) {
    if (inv.has(option)) {
        SecureString code = option_or_stdin(inv.value(option), option);
        request[field] = code.view();
        if (inv.has("two-factor-id")) request["twoFactorId"] = inv.value("two-factor-id");
        return kExitSuccess;
    }
    if (::getuid() == 0) return kExitSuccess;  // root changes any factor without a code

    json status_request = {{"user", user}};
    auto status = session.call(method::Status, status_request);
    if (!status.ok()) return report_error(status, inv.json);
    if (!bool_field(status.parameters, "enabled")) return kExitSuccess;

    json begin_request = {{"user", user}};
    auto begun = session.call(method::Begin, begin_request);
    if (!begun.ok()) return report_error(begun, inv.json);
    const bool texted = text_field(begun.parameters, "delivery") == "TextMessage";
    const bool not_texted = begun.parameters.contains("textNotSent");
    std::string prompt =
        not_texted ? "The code could not be texted. Code from your authenticator app, or a "
                     "recovery code: "
        : texted   ? "Code texted to " + text_field(begun.parameters, "mobilePhone") + ": "
                   : std::string("Code from your authenticator app: ");
    auto code = ask(prompt);
    if (!code || code->empty())
        throw UsageError("a code of your current second factor is needed (--" +
                         std::string(option) + ")");
    request[field] = code->view();
    request["twoFactorId"] = text_field(begun.parameters, "twoFactorId");
    return kExitSuccess;
}

}  // namespace twofactor::ctl
