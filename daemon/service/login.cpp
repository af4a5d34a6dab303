// SPDX-License-Identifier: BSD-2-Clause
// The login half of the service: Begin (FusionAuth's 242 with a twoFactorId), resending its code,
// and Complete. doc/protocol.md maps FusionAuth's API onto these methods.
#include "common/phone.h"
#include "common/totp.h"
#include "daemon/log/log.h"
#include "daemon/log/log_budget.h"
#include "daemon/service/params.h"
#include "daemon/service/service.h"

namespace twofactor {

namespace err = protocol::error;
using protocol::json;

namespace {

Refusal not_found(const std::string& id) {
    return Refusal{err::NotFound,
                   {{"twoFactorId", id.substr(0, 64)},
                    {"message", "the two-factor challenge is unknown, used up or expired"}}};
}

// The text dies with its challenge (ValidityPeriod), and its attempts end in time for the
// caller to hear the answer.
TextOptions text_options(const Challenge& c, std::int64_t now,
                         std::optional<std::int64_t> caller_timeout) {
    TextOptions options;
    options.validity = std::chrono::seconds(std::max<std::int64_t>(c.expires_at - now, 1));
    if (caller_timeout)
        options.budget =
            std::chrono::seconds(std::max<std::int64_t>(*caller_timeout - kAnswerMarginSeconds, 1));
    return options;
}

// A success resets the failures; a user with none (the usual login) costs no statement.
bool has_failures(const FailureState& state) {
    return state.failures != 0 || state.first_failure != 0 || state.locked_until != 0;
}

}  // namespace

std::uint64_t Service::next_unused_step(const std::string& user, std::uint64_t from) {
    // Bounded: a user has at most Challenges::kPerUser open challenges and three steps around
    // now can be used by an app, so a free step is always among the next few.
    const auto reserved = challenges_.reserved_steps(user);
    std::uint64_t step = from;
    for (int i = 0; i < 64; ++i, ++step) {
        if (!reserved.count(step) && !store_.step_used(user, step)) return step;
    }
    return step;
}

std::optional<std::uint64_t> Service::matching_step(const Enrollment& e, const Challenge* challenge,
                                                    std::string_view code, std::int64_t now) const {
    if (!is_code_shaped(code)) return std::nullopt;
    std::optional<std::uint64_t> match;
    // With Verify, the challenge's step only marks that Verify sent its own code.
    if (challenge && challenge->texted_step && !uses_verify() &&
        codes_equal(code, totp_code(e.secret.view(), *challenge->texted_step)))
        match = challenge->texted_step;
    // An authenticator app holding the same secret shows the current step's code.
    std::uint64_t current = totp_step(now);
    for (std::uint64_t s = current - 1; s <= current + 1; ++s) {
        if (!match && codes_equal(code, totp_code(e.secret.view(), s))) match = s;
    }
    return match;
}

std::optional<std::uint64_t> Service::accepted_step(const Enrollment& e, const Challenge* challenge,
                                                    std::string_view code, std::int64_t now) {
    auto match = matching_step(e, challenge, code, now);
    if (match && store_.step_used(e.user, *match)) return std::nullopt;
    return match;
}

FailureState Service::record_failure(const std::string& user, std::int64_t now,
                                     std::string_view rhost, std::string_view service) {
    // One statement in the store: wrong codes typed on several hosts at once all count.
    const LockoutPolicy policy{settings_.login.lockout_failures, settings_.login.lockout_window,
                               settings_.login.lockout_duration};
    FailureState state = store_.add_failure(user, now, policy);
    if (state.failures >= policy.failures)
        log::warning("account locked after repeated wrong codes",
                     {{"event", "lockout"},
                      {"user", user},
                      {"rhost", rhost},
                      {"service", service},
                      {"failures", std::to_string(state.failures)}});
    return state;
}

void Service::begin(const Caller& caller, const json& p, Respond& respond) {
    params::only(p, {"user", "ipAddress", "service", "tty", "timeout", "trust"});
    std::string user = params::user_name(p);
    authorize(caller, user);
    std::string ip = params::optional_string(p, "ipAddress", 255).value_or("");
    std::string service = params::optional_string(p, "service", 255).value_or("");
    std::string tty = params::optional_string(p, "tty", 255).value_or("");
    // How long the caller waits for this answer (the PAM module's timeout).
    auto caller_timeout = params::optional_integer(p, "timeout", 1, 3600);
    const TrustRequest trust = trust_request(caller, p, service, ip, tty);
    std::int64_t now = clock_();

    // The enrollment and the failures in one read.
    LoginState state = store_.login_state(user);
    auto& e = state.enrollment;
    if (!e)
        throw Refusal{err::NotEnrolled,
                      {{"user", user}, {"message", "two-factor is not enabled for " + user}}};
    check_lock(user, state.failures, now);
    // After the lock check: a locked account is never let in by a trust.
    if (auto until = trusted_until(user, trust, now)) {
        log::notice("two-factor login trusted", {{"user", user},
                                                 {"service", service},
                                                 {"origin", trust.origin},
                                                 {"until", std::to_string(*until)}});
        respond(
            protocol::make_reply({{"user", user}, {"trusted", true}, {"trustedUntil", *until}}));
        return;
    }
    // A texted login holds the limits from their check to the count of its text, and with them
    // the choice of its step; an app user's, only its check and count of challenges begun.
    std::unique_lock limits(limits_mutex_);
    // Whatever the delivery: an app user's challenges cost no text, but each is a log line.
    // This limit protects the daemon's journal: it stays a refusal.
    if (auto wait = challenge_starts_.retry_after(user, now))
        throw Refusal{
            err::RateLimited,
            {{"retryAfter", wait}, {"message", "too many logins begun; try again later"}}};
    challenge_starts_.record(user, now);
    // A text limit reached holds the text back, not the login: the app and recovery codes work.
    const std::int64_t text_wait =
        e->delivery == Delivery::TextMessage ? text_limits_wait(user, now) : 0;
    if (e->delivery != Delivery::TextMessage || text_wait > 0) limits.unlock();

    const auto& login = settings_.login;
    // A step no other open challenge of this user holds and no login used: sudo typed seconds
    // after an SSH login gets a working code of its own. The challenge holds it once a text
    // went out (with Verify, once Verify sent its own code).
    std::optional<std::uint64_t> step;
    if (e->delivery == Delivery::TextMessage) step = next_unused_step(user, totp_step(now));
    const bool texting_now = step && text_wait == 0 && !uses_verify();
    // The caller's time ran out (answered Unavailable): no challenge for a caller who has gone.
    if (!respond.act()) return;
    Challenge c =
        challenges_.create(user, e->delivery, now, login.challenge_lifetime, login.tries,
                           login.resends, texting_now ? step : std::nullopt, ip, service, trust);
    log::info("two-factor challenge started", {{"user", user},
                                               {"ip", ip},
                                               {"service", service},
                                               {"tty", tty},
                                               {"delivery", delivery_name(e->delivery)}});

    json reply = {
        {"twoFactorId", c.id},
        {"delivery", delivery_name(e->delivery)},
        {"mobilePhone", e->mobile_phone.empty() ? json() : json(mask_phone(e->mobile_phone))},
        {"expiresIn", login.challenge_lifetime},
        {"attemptsLeft", c.attempts_left}};
    // The prompt offers `call` only where a call can be placed.
    if (settings_.voice.enabled) reply["voice"] = true;
    if (e->delivery == Delivery::None) {
        respond(protocol::make_reply(std::move(reply)));
        return;
    }
    if (text_wait > 0) {
        log::warning("text message held back by the text limits",
                     {{"user", user}, {"retry_after", std::to_string(text_wait)}});
        const Refusal limited = text_limit_refusal(text_wait);
        reply["textNotSent"] = protocol::make_error(limited.error, limited.parameters);
        respond(protocol::make_reply(std::move(reply)));
        return;
    }
    if (uses_verify()) {
        record_text(user, now);
        limits.unlock();
        begin_verification(c, *e, *step, text_options(c, now, caller_timeout), std::move(reply),
                           respond);
        return;
    }

    record_text(user, now);
    limits.unlock();
    std::string code = totp_code(e->secret.view(), *step);
    std::string id = c.id;
    send_text(e->mobile_phone, code, user, text_options(c, now, caller_timeout),
              answering(respond, [this, respond, reply = std::move(reply),
                                  id](const SmsResult& result) mutable {
                  if (result.accepted) {
                      respond(protocol::make_reply(reply));
                      return;
                  }
                  // Twilio may have the text: the challenge stays open, and the user reads
                  // that the text may be late and that `resend` sends another. Never sent twice
                  // by itself.
                  if (result.may_arrive) {
                      reply["textMayBeLate"] = true;
                      respond(protocol::make_reply(reply));
                      return;
                  }
                  // No dead end: the login goes on with the authenticator app's code or a
                  // recovery code, and `resend` tries again. The code nobody received is no key.
                  store_.set_texted_step(id, std::nullopt);
                  reply["textNotSent"] = delivery_failure(result);
                  respond(protocol::make_reply(reply));
              }));
    wipe(code);
}

void Service::resend_code(const Caller& caller, const json& p, Respond& respond) {
    params::only(p, {"twoFactorId", "delivery"});
    std::string id = params::required_string(p, "twoFactorId", 64);
    const bool by_call = call_requested(p);
    std::int64_t now = clock_();
    auto c = challenges_.find(id, now);
    if (!c) throw not_found(id);
    authorize(caller, c->user);
    if (c->delivery != Delivery::TextMessage)
        throw params::invalid("twoFactorId",
                              "this challenge is answered with an authenticator app");
    const Refusal resent_too_often{
        err::RateLimited,
        {{"retryAfter", c->expires_at - now}, {"message", "the code was resent too many times"}}};
    if (c->resends_left <= 0) throw resent_too_often;
    std::unique_lock limits(limits_mutex_);
    check_text_limits(c->user, now);
    auto e = store_.get_enrollment(c->user);
    if (!e) throw not_found(id);
    // Taken in the store: two hosts resending at once cannot both use the last resend.
    if (!store_.spend_resend(id)) throw resent_too_often;
    record_text(c->user, now);
    // After a text that did not go out, the challenge holds no step: this text (or call) picks
    // one, still under the limits' lock, so that two at once never pick the same.
    const bool had_step = c->texted_step.has_value();
    const std::uint64_t step =
        had_step ? *c->texted_step : next_unused_step(c->user, totp_step(now));
    if (by_call) {
        call_code(*c, *e, step, respond);
        return;
    }
    if (uses_verify()) {
        resend_verification(*c, *e, step, respond);
        return;
    }
    // Held before the text leaves: the code may be typed as soon as it arrives.
    if (!had_step) store_.set_texted_step(id, step);
    limits.unlock();
    std::string code = totp_code(e->secret.view(), step);
    std::string masked = mask_phone(e->mobile_phone);
    send_text(
        e->mobile_phone, code, c->user, text_options(*c, now, std::nullopt),
        answering(respond, [this, respond, masked, id, had_step](const SmsResult& result) {
            if (result.accepted) {
                respond(protocol::make_reply({{"mobilePhone", masked}}));
            } else if (result.may_arrive) {
                respond(protocol::make_reply({{"mobilePhone", masked}, {"textMayBeLate", true}}));
            } else {
                if (!had_step) store_.set_texted_step(id, std::nullopt);
                respond(delivery_failure(result));
            }
        }));
    wipe(code);
}

void Service::complete(const Caller& caller, const json& p, Respond& respond) {
    params::only(p, {"twoFactorId", "code", "ipAddress"});
    std::string id = params::required_string(p, "twoFactorId", 64);
    SecureString code(params::required_string(p, "code", 64));
    std::string ip = params::optional_string(p, "ipAddress", 255).value_or("");
    std::int64_t now = clock_();
    auto c = challenges_.find(id, now);
    if (!c) throw not_found(id);
    authorize(caller, c->user);
    std::string user = c->user;
    LoginState state = store_.login_state(user);
    check_lock(user, state.failures, now);
    auto& e = state.enrollment;
    if (!e) {
        challenges_.erase(id);
        throw not_found(id);
    }

    // use_step is the single-use guard: of two logins racing with one code, one wins, and a
    // step used before matches nothing.
    if (auto step = matching_step(*e, &*c, code.view(), now);
        step && store_.use_step(user, *step)) {
        challenges_.erase(id);
        if (has_failures(state.failures)) store_.put_failures(user, FailureState{});
        log::notice("two-factor login succeeded", {{"user", user}, {"ip", ip}});
        remember_trust(*c, now);
        respond(protocol::make_reply({{"user", user}}));
        return;
    }
    if (auto left = use_recovery_code(user, code.view())) {
        challenges_.erase(id);
        if (has_failures(state.failures)) store_.put_failures(user, FailureState{});
        log::notice("two-factor login succeeded with a recovery code",
                    {{"user", user}, {"ip", ip}});
        respond(protocol::make_reply({{"user", user}, {"recoveryCodesLeft", *left}}));
        return;
    }

    // With Twilio Verify, a code that is no app's is Verify's to check, once Verify sent one.
    if (uses_verify() && c->delivery == Delivery::TextMessage && c->texted_step &&
        is_code_shaped(code.view())) {
        check_verification(id, *e, std::move(code), ip, respond);
        return;
    }
    throw wrong_code(*c, ip, now);
}

Refusal Service::wrong_code(Challenge& c, const std::string& ip, std::int64_t now) {
    std::string id = c.id;
    std::string user = c.user;
    // Taken in the store: wrong codes sent to two hosts for one challenge both count.
    int left = store_.spend_attempt(id).value_or(0);
    c.attempts_left = left;
    const std::string rhost = ip.empty() ? c.ip_address : ip;
    const std::string service = c.service;
    if (left <= 0) challenges_.erase(id);
    const FailureState state = record_failure(user, now, rhost, service);
    log::warning("wrong two-factor code",
                 {{"user", user}, {"ip", ip}, {"attempts_left", std::to_string(left)}});
    if (state.locked_until > now) {
        challenges_.erase_user(user);
        return Refusal{err::Locked,
                       {{"user", user},
                        {"lockedUntil", state.locked_until},
                        {"message", "the account is locked after too many wrong codes"}}};
    }
    return Refusal{err::InvalidCode,
                   {{"attemptsLeft", std::max(left, 0)}, {"message", "invalid code"}}};
}

}  // namespace twofactor
