// SPDX-License-Identifier: BSD-2-Clause
// Recovery codes in the service: ten issued with each enrollment and on request, each accepted
// once wherever a code is (Complete, and proving the factor before changing it). Using one is
// logged at notice, since it usually means a lost phone.
#include "common/recovery_codes.h"
#include "daemon/log/log.h"
#include "daemon/service/params.h"
#include "daemon/service/service.h"

namespace twofactor {

namespace err = protocol::error;
using protocol::json;

json Service::issue_recovery_codes(const std::string& user) {
    const auto codes = generate_recovery_codes();
    RecoveryCodeSet set{random_salt(), {}};
    json shown = json::array();
    for (const auto& code : codes) {
        auto normalized = normalize_recovery_code(code.view());
        set.hashes.push_back(hash_recovery_code(normalized->view(), set.salt));
        shown.push_back(std::string(code.view()));
    }
    store_.replace_recovery_codes(user, set);
    return shown;
}

std::optional<int> Service::use_recovery_code(const std::string& user, std::string_view typed) {
    auto normalized = normalize_recovery_code(typed);
    if (!normalized) return std::nullopt;
    auto salt = store_.recovery_salt(user);
    if (!salt) return std::nullopt;
    if (!store_.use_recovery_code(user, hash_recovery_code(normalized->view(), *salt)))
        return std::nullopt;
    const int left = store_.count_recovery_codes(user);
    log::notice("recovery code used", {{"event", "recovery_code"},
                                       {"user", user},
                                       {"recovery_codes_left", std::to_string(left)}});
    return left;
}

void Service::regenerate_recovery_codes(const Caller& caller, const json& p, Respond& respond) {
    params::only(p, {"user", "code", "twoFactorId"});
    std::string user = params::user_name(p);
    authorize(caller, user);
    if (!store_.get_enrollment(user)) throw refusals::not_enrolled(user);
    require_current_factor(
        caller, user, p, "code", respond, [this, user, uid = caller.uid, respond] {
            json codes = issue_recovery_codes(user);
            log::notice(
                "recovery codes replaced",
                {{"event", "recovery_codes"}, {"user", user}, {"by_uid", std::to_string(uid)}});
            json reply = {{"user", user}, {"recoveryCodes", std::move(codes)}};
            respond(protocol::make_reply(reply));
            wipe_recovery_codes(reply);
        });
}

void wipe_recovery_codes(json& reply) {
    auto found = reply.find("recoveryCodes");
    if (found == reply.end() || !found->is_array()) return;
    for (auto& code : *found)
        if (code.is_string()) wipe(code.get_ref<std::string&>());
}

}  // namespace twofactor
