// SPDX-License-Identifier: BSD-2-Clause
// `twofactorctl recovery-codes`, and showing a new set wherever the daemon hands one out
// (enable, enroll): the only time anyone sees them.
#include "ctl/recovery_codes.h"

#include "ctl/current_factor.h"
#include "ctl/output.h"

namespace twofactor::ctl {

namespace method = protocol::method;

void print_recovery_codes(const json& parameters) {
    auto codes = parameters.find("recoveryCodes");
    if (codes == parameters.end() || !codes->is_array() || codes->empty()) return;
    print_line("Recovery codes: each lets you in once instead of a code. They are not shown");
    print_line("again: keep them somewhere safe, away from your phone.");
    std::string line;
    for (const auto& code : *codes) {
        if (!code.is_string()) continue;
        line += "  " + code.get<std::string>();
        if (line.size() > 24) {
            print_line(line);
            wipe(line);
            line.clear();
        }
    }
    if (!line.empty()) print_line(line);
    wipe(line);
}

int run_recovery_codes(Session& session, const Invocation& inv) {
    std::string user = inv.operands.empty() ? caller_user_name() : inv.operands.front();
    json request = {{"user", user}};
    if (int status = add_current_factor_code(session, inv, user, "code", "code", request);
        status != kExitSuccess)
        return status;
    auto result = session.call(method::RegenerateRecoveryCodes, request);
    if (!result.ok()) return report_error(result, inv.json);
    if (inv.json)
        print_json(result.parameters);
    else
        print_recovery_codes(result.parameters);
    wipe_json(result.parameters);
    return kExitSuccess;
}

}  // namespace twofactor::ctl
