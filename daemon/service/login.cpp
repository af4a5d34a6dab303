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
    if (!match) match = app_code_step(e.secret.view(), code, now);
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
    const BeginRequest request = begin_request(caller, p);
    const std::int64_t now = clock_();
    // The enrollment and the failures in one read.
    LoginState state = store_.login_state(request.user);
    if (!state.enrollment) throw refusals::not_enrolled(request.user);
    const Enrollment& e = *state.enrollment;
    check_lock(request.user, state.failures, now);
    // After the lock check: a locked account is never let in by a trust.
    if (answer_trusted(request, now, respond)) return;
    const std::int64_t text_wait = take_begin_limits(request, e, now);
    // The caller's time ran out (answered Unavailable): no challenge for a caller who has gone.
    if (!respond.act()) return;
    std::optional<std::uint64_t> step;
    const bool texting = e.delivery == Delivery::TextMessage && text_wait == 0;
    Challenge c = open_challenge(request, e, now, texting && !uses_verify(), step);
    log::info("two-factor challenge started", {{"user", request.user},
                                               {"ip", request.ip},
                                               {"service", request.service},
                                               {"tty", request.tty},
                                               {"delivery", delivery_name(e.delivery)}});
    json reply = challenge_reply(c, e);
    if (e.delivery == Delivery::None) return respond(protocol::make_reply(std::move(reply)));
    if (text_wait > 0) {
        log::warning("text message held back by the text limits",
                     {{"user", request.user}, {"retry_after", std::to_string(text_wait)}});
        reply["textNotSent"] = text_limit_refusal(text_wait).as_message();
        return respond(protocol::make_reply(std::move(reply)));
    }
    const TextOptions options = text_options(c, now, request.caller_timeout);
    if (uses_verify()) return begin_verification(c, e, *step, options, std::move(reply), respond);
    text_login_code(c, e, *step, named(caller, request.service), options, std::move(reply),
                    respond);
}

Service::BeginRequest Service::begin_request(const Caller& caller, const json& p) const {
    params::only(p, {"user", "ipAddress", "service", "tty", "timeout", "trust"});
    BeginRequest r;
    r.user = params::user_name(p);
    authorize(caller, r.user);
    r.ip = params::optional_string(p, "ipAddress", 255).value_or("");
    r.service = params::optional_string(p, "service", 255).value_or("");
    r.tty = params::optional_string(p, "tty", 255).value_or("");
    r.caller_timeout = params::optional_integer(p, "timeout", 1, 3600);
    r.trust = trust_request(caller, p, r.service, r.ip, r.tty);
    return r;
}

bool Service::answer_trusted(const BeginRequest& r, std::int64_t now, Respond& respond) {
    auto until = trusted_until(r.user, r.trust, now);
    if (!until) return false;
    log::notice("two-factor login trusted", {{"user", r.user},
                                             {"service", r.service},
                                             {"origin", r.trust.origin},
                                             {"until", std::to_string(*until)}});
    respond(protocol::make_reply({{"user", r.user}, {"trusted", true}, {"trustedUntil", *until}}));
    return true;
}

std::int64_t Service::take_begin_limits(const BeginRequest& r, const Enrollment& e,
                                        std::int64_t now) {
    // Whatever the delivery: an app user's challenges cost no text, but each is a log line.
    // This limit protects the daemon's journal: it stays a refusal.
    if (auto wait = text_limits_.take_login_start(r.user, now))
        throw Refusal{
            err::RateLimited,
            {{"retryAfter", wait}, {"message", "too many logins begun; try again later"}}};
    // A text limit reached holds the text back, not the login: the app and recovery codes work.
    return e.delivery == Delivery::TextMessage ? take_text(r.user, e.mobile_phone, now) : 0;
}

Challenge Service::open_challenge(const BeginRequest& r, const Enrollment& e, std::int64_t now,
                                  bool texting_now, std::optional<std::uint64_t>& step) {
    const auto& login = settings_.login;
    // A step no other open challenge of this user holds and no login used: sudo typed seconds
    // after an SSH login gets a working code of its own. The challenge holds it once a text
    // went out (with Verify, once Verify sent its own code). Chosen and stored under the
    // user's lock, so that two Begins of one user never take the same.
    std::unique_lock user_lock = step_locks_.lock(r.user);
    if (e.delivery == Delivery::TextMessage) step = next_unused_step(r.user, totp_step(now));
    return challenges_.create(r.user, e.delivery, now, login.challenge_lifetime, login.tries,
                              login.resends, texting_now ? step : std::nullopt, r.ip, r.service,
                              r.trust);
}

json Service::challenge_reply(const Challenge& c, const Enrollment& e) const {
    json reply = {
        {"twoFactorId", c.id},
        {"delivery", delivery_name(e.delivery)},
        {"mobilePhone", e.mobile_phone.empty() ? json() : json(mask_phone(e.mobile_phone))},
        {"expiresIn", settings_.login.challenge_lifetime},
        {"attemptsLeft", c.attempts_left}};
    // The prompt offers `call` only where a call can be placed.
    if (settings_.voice.enabled) reply["voice"] = true;
    return reply;
}

void Service::text_login_code(const Challenge& c, const Enrollment& e, std::uint64_t step,
                              const Named& named, TextOptions options, json reply,
                              Respond& respond) {
    std::string code = totp_code(e.secret.view(), step);
    std::string id = c.id;
    const std::int64_t expires_at = c.expires_at;
    send_text(e.mobile_phone, code, c.user, named, options,
              answering(respond, [this, respond, reply = std::move(reply), id,
                                  expires_at](const SmsResult& result) mutable {
                  // The conversion counts the challenges whose text went out.
                  if (result.accepted || result.may_arrive) {
                      watch_.texted(id, expires_at);
                      watch_conversion(clock_());
                  }
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
    if (!c) throw refusals::not_found(id);
    authorize(caller, c->user);
    if (c->delivery != Delivery::TextMessage)
        throw params::invalid("twoFactorId",
                              "this challenge is answered with an authenticator app");
    const Refusal resent_too_often{
        err::RateLimited,
        {{"retryAfter", c->expires_at - now}, {"message", "the code was resent too many times"}}};
    if (c->resends_left <= 0) throw resent_too_often;
    // The enrollment first: the budgets count texts to its number.
    auto e = store_.get_enrollment(c->user);
    if (!e) throw refusals::not_found(id);
    if (std::int64_t wait = take_text(c->user, e->mobile_phone, now))
        throw text_limit_refusal(wait);
    // Refused after its text was taken, the machine's minute is given back; the store's hour
    // keeps it (two hosts raced for the last resend).
    // Taken in the store: two hosts resending at once cannot both use the last resend.
    if (!store_.spend_resend(id)) {
        text_limits_.give_back_text(now);
        throw resent_too_often;
    }
    // After a text that did not go out, the challenge holds no step: this text (or call) picks
    // one, under the user's lock, so that two at once never pick the same.
    std::unique_lock user_lock = step_locks_.lock(c->user);
    const bool had_step = c->texted_step.has_value();
    const std::uint64_t step =
        had_step ? *c->texted_step : next_unused_step(c->user, totp_step(now));
    if (by_call) return call_code(*c, *e, step, named(caller, c->service), respond);
    if (uses_verify()) return resend_verification(*c, *e, step, respond);
    // Held before the text leaves: the code may be typed as soon as it arrives.
    if (!had_step) store_.set_texted_step(id, step);
    user_lock.unlock();
    std::string code = totp_code(e->secret.view(), step);
    std::string masked = mask_phone(e->mobile_phone);
    send_text(
        e->mobile_phone, code, c->user, named(caller, c->service),
        text_options(*c, now, std::nullopt),
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
    if (!c) throw refusals::not_found(id);
    authorize(caller, c->user);
    std::string user = c->user;
    LoginState state = store_.login_state(user);
    check_lock(user, state.failures, now);
    auto& e = state.enrollment;
    if (!e) {
        challenges_.erase(id);
        throw refusals::not_found(id);
    }

    // use_step is the single-use guard: of two logins racing with one code, one wins, and a
    // step used before matches nothing.
    if (auto step = matching_step(*e, &*c, code.view(), now);
        step && store_.use_step(user, *step)) {
        challenges_.erase(id);
        watch_.completed(id);
        reset_failures(user, state.failures);
        log::notice("two-factor login succeeded", {{"user", user}, {"ip", ip}});
        remember_trust(*c, trust_host(caller), now);
        respond(protocol::make_reply({{"user", user}}));
        return;
    }
    if (auto left = use_recovery_code(user, code.view())) {
        challenges_.erase(id);
        watch_.completed(id);
        reset_failures(user, state.failures);
        log::notice("two-factor login succeeded with a recovery code",
                    {{"user", user}, {"ip", ip}});
        respond(protocol::make_reply({{"user", user}, {"recoveryCodesLeft", *left}}));
        return;
    }

    // With Twilio Verify, a code that is no app's is Verify's to check, once Verify sent one.
    if (uses_verify() && c->delivery == Delivery::TextMessage && c->texted_step &&
        is_code_shaped(code.view())) {
        check_verification(id, *e, std::move(code), ip, trust_host(caller), respond);
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
        return refusals::locked(user, state.locked_until);
    }
    return Refusal{err::InvalidCode,
                   {{"attemptsLeft", std::max(left, 0)}, {"message", "invalid code"}}};
}

}  // namespace twofactor
