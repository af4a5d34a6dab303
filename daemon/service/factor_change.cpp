// SPDX-License-Identifier: BSD-2-Clause
// Changing the second factor: a non-root caller who disables it, or enables another over it,
// proves the factor they have now with one of its codes. One session as the user (a phished
// password and one relayed code) must not become permanent access.
#include "common/totp.h"
#include "daemon/log/log.h"
#include "daemon/service/params.h"
#include "daemon/service/service.h"

namespace twofactor {

namespace err = protocol::error;
using protocol::json;

void Service::require_current_factor(const Caller& caller, const std::string& user, const json& p,
                                     const char* code_field, Respond& respond,
                                     std::function<void()> then) {
    if (caller.is_root()) return then();
    auto e = store_.get_enrollment(user);
    if (!e) return then();  // a first enrollment has no factor to prove
    std::int64_t now = clock_();
    const FailureState failures = store_.get_failures(user);
    check_lock(user, failures, now);
    auto given = params::optional_string(p, code_field, 64);
    if (!given || given->empty())
        throw Refusal{err::PermissionDenied,
                      {{"field", code_field},
                       {"message", std::string("changing your second factor needs a code of the "
                                               "one you have now (") +
                                       code_field + ")"}}};
    SecureString code(std::move(*given));
    // A texted code belongs to a challenge (Begin, `twofactorctl login`); an app's code needs none.
    std::optional<Challenge> challenge;
    if (auto id = params::optional_string(p, "twoFactorId", 64)) {
        challenge = challenges_.find(*id, now);
        if (!challenge || challenge->user != user) throw refusals::not_found(*id);
    }
    auto step = accepted_step(*e, challenge ? &*challenge : nullptr, code.view(), now);
    if ((step && store_.use_step(user, *step)) || (!step && use_recovery_code(user, code.view()))) {
        if (challenge) challenges_.erase(challenge->id);
        reset_failures(user, failures);
        return then();
    }
    // With Twilio Verify, a code that is no app's may be the one Verify texted for the
    // challenge: Verify checks it, without holding up the event loop.
    if (!step && uses_verify() && challenge && challenge->delivery == Delivery::TextMessage &&
        challenge->texted_step && is_code_shaped(code.view())) {
        check_factor_verification(challenge->id, *e, caller.uid, std::move(code), respond,
                                  std::move(then));
        return;
    }
    throw wrong_factor_code(user, caller.uid, now);
}

Refusal Service::wrong_factor_code(const std::string& user, uid_t uid, std::int64_t now) {
    const FailureState state = record_failure(user, now);
    log::warning("wrong code for a change of the second factor",
                 {{"user", user}, {"by_uid", std::to_string(uid)}});
    if (state.locked_until > now) {
        challenges_.erase_user(user);
        return refusals::locked(user, state.locked_until);
    }
    return Refusal{err::InvalidCode, {{"message", "invalid code of your current second factor"}}};
}

}  // namespace twofactor
