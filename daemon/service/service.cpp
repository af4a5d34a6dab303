// SPDX-License-Identifier: BSD-2-Clause
#include "daemon/service/service.h"

#include <openssl/sha.h>

#include "common/base32.h"
#include "common/phone.h"
#include "common/secret.h"
#include "common/totp.h"
#include "daemon/log/log.h"
#include "daemon/log/log_budget.h"
#include "daemon/service/host_id.h"
#include "daemon/service/message_template.h"
#include "daemon/service/params.h"
#include "daemon/store/rules.h"

namespace twofactor {

namespace err = protocol::error;
using protocol::json;

namespace {

// The key setup codes are remembered by: the secret's SHA-256, never the secret.
std::string secret_digest(const SecureString& secret) {
    unsigned char digest[SHA256_DIGEST_LENGTH];
    SHA256(reinterpret_cast<const unsigned char*>(secret.c_str()), secret.size(), digest);
    return std::string(reinterpret_cast<char*>(digest), sizeof(digest));
}

}  // namespace

Service::Service(const Settings& settings, Store& store, Messenger& messenger, Clock clock)
    : settings_(settings),
      host_id_(trust_host_id(settings.trust)),
      host_name_(host_name()),
      store_(store),
      messenger_(messenger),
      clock_(std::move(clock)),
      challenges_(store),
      text_limits_(settings.sms, settings.login) {
    store_.observe_forged_trusts(&Service::log_forged_trust);
}

void Service::handle(const Caller& caller, const protocol::Request& request, Respond respond) {
    // Every line this call writes, and those of the Twilio answers it waits for, is the caller's.
    log::CallerScope scope(caller.uid);
    log::HostScope host(caller.host);
    static const std::map<std::string, Handler> kHandlers = {
        {protocol::method::GenerateSecret, &Service::generate_secret},
        {protocol::method::SendCode, &Service::send_code},
        {protocol::method::Enable, &Service::enable},
        {protocol::method::Disable, &Service::disable},
        {protocol::method::Status, &Service::status},
        {protocol::method::Unlock, &Service::unlock},
        {protocol::method::Forget, &Service::forget},
        {protocol::method::Begin, &Service::begin},
        {protocol::method::Complete, &Service::complete},
        {protocol::method::RegenerateRecoveryCodes, &Service::regenerate_recovery_codes},
    };
    auto handler = kHandlers.find(request.method);
    if (handler == kHandlers.end()) {
        respond(protocol::make_error(
            err::MethodNotFound,
            {{"method", request.method.substr(0, 200)}, {"message", "there is no such method"}}));
        return;
    }
    guarded(respond, [&] { (this->*(handler->second))(caller, request.parameters, respond); });
}

void Service::guarded(const Respond& respond, const std::function<void()>& work) {
    try {
        work();
    } catch (const Refusal& refusal) {
        respond(refusal.as_message());
    } catch (const StoreUnavailable& e) {
        log::error("the store is unavailable", {{"error", e.what()}});
        // Once the call has acted (a challenge exists, a text went out), "no database" must not
        // read as "no daemon": the module lets that in under failmode=safe.
        if (respond.acted())
            respond(protocol::make_error(
                err::InternalError,
                {{"message", "the daemon's database could not be reached to finish the call"}}));
        else
            respond(protocol::make_error(err::Unavailable,
                                         {{"message", "the daemon's database cannot be reached"}}));
    } catch (const StoreError& e) {
        log::error("database failure", {{"error", e.what()}});
        respond(protocol::make_error(err::InternalError,
                                     {{"message", "the daemon's database failed; see its log"}}));
    } catch (const std::exception& e) {
        log::error("a call failed", {{"error", e.what()}});
        respond(protocol::make_error(err::InternalError,
                                     {{"message", "the daemon failed; see its log"}}));
    }
}

Messenger::Callback Service::answering(const Respond& respond,
                                       std::function<void(const SmsResult&)> work) {
    respond.act();
    return [this, respond, work = std::move(work)](const SmsResult& result) {
        guarded(respond, [&] { work(result); });
    };
}

void Service::authorize(const Caller& caller, const std::string& user) const {
    if (caller.is_root() || (!caller.user.empty() && caller.user == user)) return;
    throw Refusal{err::PermissionDenied, {{"message", "you may act only on your own account"}}};
}

std::string Service::normalize_number(const std::string& input) const {
    auto result = normalize_phone(input, settings_.sms.default_country_code);
    if (auto* problem = std::get_if<PhoneError>(&result))
        throw params::invalid("mobilePhone", problem->reason);
    std::string number = std::get<std::string>(result);
    const auto& allowed = settings_.sms.allowed_country_codes;
    if (!allowed.empty()) {
        std::string country = country_code_of(number);
        if (std::find(allowed.begin(), allowed.end(), country) == allowed.end())
            throw params::invalid(
                "mobilePhone", "numbers with country code +" + country + " are not allowed here");
    }
    return number;
}

void Service::check_lock(const std::string& user, const FailureState& state,
                         std::int64_t now) const {
    if (state.locked_until > now) throw refusals::locked(user, state.locked_until);
}

void Service::reset_failures(const std::string& user, const std::optional<FailureState>& known) {
    // A user with none (the usual login) costs no statement.
    if (known && known->failures == 0 && known->first_failure == 0 && known->locked_until == 0)
        return;
    store_.put_failures(user, FailureState{});
}

namespace {
constexpr std::int64_t kHour = 3600;
}  // namespace

std::int64_t Service::user_text_wait(const std::string& user_key, std::int64_t now) {
    return event_wait(store_.count_events("text:" + user_key, now - kHour), now - kHour,
                      settings_.sms.user_texts_per_hour);
}

std::int64_t Service::take_text(const std::string& user_key, const std::string& phone,
                                std::int64_t now) {
    // The machine's minute first: it is given back if the store's hour refuses, while a text
    // taken in the store stays counted. Refused, the wait is the longer of the two.
    if (std::int64_t wait = text_limits_.take_text(now); wait > 0)
        return std::max(wait, user_text_wait(user_key, now));
    std::int64_t wait =
        store_.take_event("text:" + user_key, now - kHour, settings_.sms.user_texts_per_hour, now);
    // The fleet's budgets after the user's hour: refusals of one user's texts never spend them.
    if (wait == 0) wait = take_budget(phone, now);
    if (wait > 0) text_limits_.give_back_text(now);
    return wait;
}

void Service::take_setup_text(const Caller& caller, const std::string& phone, std::int64_t now) {
    const std::string uid_key = "uid:" + std::to_string(caller.uid);
    if (auto refused = text_limits_.take_setup_text(caller.uid, phone, now)) {
        // The uid's hour in the store comes right after its enrollment texts: refused both,
        // the hour is named.
        if (!caller.is_root() && refused->limit != TextLimits::SetupLimit::EnrollTexts)
            if (std::int64_t wait = user_text_wait(uid_key, now); wait > 0)
                throw text_limit_refusal(wait);
        throw Refusal{err::RateLimited,
                      {{"retryAfter", refused->wait}, {"message", refused->message}}};
    }
    std::int64_t wait = caller.is_root()
                            ? 0
                            : store_.take_event("text:" + uid_key, now - kHour,
                                                settings_.sms.user_texts_per_hour, now);
    // Root's texts too: a pump through root's account (a script, a web form) spends the budget.
    if (wait == 0) wait = take_budget(phone, now);
    if (wait == 0) return;
    text_limits_.give_back_setup_text(caller.uid, phone, now);
    throw text_limit_refusal(wait);
}

Service::Named Service::named(const Caller& caller, const std::string& service) const {
    return {service.empty() ? "login" : service, caller.host.empty() ? host_name_ : caller.host};
}

void Service::send_text(const std::string& phone, const std::string& code, const std::string& user,
                        const Named& named, TextOptions options,
                        std::function<void(const SmsResult&)> done) {
    std::string body =
        message_template::render(settings_.sms.message, code, named.service, named.host);
    log::info("sending a text", {{"user", user}, {"to", mask_phone(phone)}});
    // Every failed text, whether a login's first, a resend or a setup code, leaves Twilio's
    // code in the journal; the module and twofactorctl show the user only a sentence.
    messenger_.send(
        phone, SecureString(std::move(body)), options,
        [user, done = std::move(done)](const SmsResult& result) {
            if (result.accepted)
                log::info("text message accepted", {{"user", user}, {"message_sid", result.sid}});
            else
                log_undelivered(
                    user,
                    result.may_arrive ? "text message may be late" : "text message not delivered",
                    result);
            done(result);
        });
}

void Service::generate_secret(const Caller&, const json& p, Respond& respond) {
    params::only(p, {});
    SecureString secret = twofactor::generate_secret();
    std::string encoded = base32_encode(secret.view());
    respond(protocol::make_reply({{"secret", secret.view()}, {"secretBase32Encoded", encoded}}));
    wipe(encoded);
}

void Service::send_code(const Caller& caller, const json& p, Respond& respond) {
    if (p.contains("twoFactorId"))
        resend_code(caller, p, respond);
    else
        send_setup_code(caller, p, respond);
}

void Service::send_setup_code(const Caller& caller, const json& p, Respond& respond) {
    params::only(p, {"mobilePhone", "secret"});
    SecureString secret(params::required_string(p, "secret", 256));
    if (auto why = check_secret(secret.view())) throw params::invalid("secret", *why);
    std::string phone = normalize_number(params::required_string(p, "mobilePhone", 64));
    std::int64_t now = clock_();

    // A local user may text only while enrolling itself: one who is enabled already, or a uid
    // without a name, could otherwise use the daemon to text anyone.
    if (!caller.is_root()) {
        if (caller.user.empty() || store_.get_enrollment(caller.user))
            throw Refusal{
                err::PermissionDenied,
                {{"message", "only root may send codes to a number once your account is enabled"}}};
    }
    check_setup_country(phone, now);
    take_setup_text(caller, phone, now);

    std::uint64_t step = totp_step(now);
    std::string code = totp_code(secret.view(), step);
    text_limits_.remember_setup_code(secret_digest(secret), step, now);

    std::string masked = mask_phone(phone);
    TextOptions options;
    options.validity = std::chrono::seconds(settings_.login.challenge_lifetime);
    // A setup code unlocks no login: it names the enrollment it is for.
    send_text(phone, code, caller.is_root() ? "root" : caller.user, named(caller, "enrollment"),
              options, answering(respond, [respond, masked](const SmsResult& result) {
                  if (result.accepted)
                      respond(protocol::make_reply({{"mobilePhone", masked}}));
                  else
                      respond(delivery_failure(result));
              }));
    wipe(code);
}

void Service::enable(const Caller& caller, const json& p, Respond& respond) {
    params::only(
        p, {"user", "secret", "code", "delivery", "mobilePhone", "currentCode", "twoFactorId"});
    std::string user = params::user_name(p);
    authorize(caller, user);
    SecureString secret(params::required_string(p, "secret", 256));
    if (auto why = check_secret(secret.view())) throw params::invalid("secret", *why);
    SecureString code(params::required_string(p, "code", 64));
    auto delivery_name_given = params::optional_string(p, "delivery", 32);
    auto delivery = parse_delivery(delivery_name_given.value_or("TextMessage"));
    if (!delivery) throw params::invalid("delivery", "must be TextMessage or None");
    std::string phone;
    if (*delivery == Delivery::TextMessage)
        phone = normalize_number(params::required_string(p, "mobilePhone", 64));
    else if (auto given = params::optional_string(p, "mobilePhone", 64); given && !given->empty())
        phone = normalize_number(*given);

    std::int64_t now = clock_();
    std::optional<std::uint64_t> step;
    if (is_code_shaped(code.view())) {
        for (std::uint64_t texted : text_limits_.setup_steps(secret_digest(secret), now))
            if (codes_equal(code.view(), totp_code(secret.view(), texted))) step = texted;
        if (auto app_step = app_code_step(secret.view(), code.view(), now)) step = app_step;
    }
    if (!step)
        throw Refusal{err::InvalidCode,
                      {{"message", "invalid code: it does not match the secret"}}};
    Enrollment e;
    e.user = user;
    e.secret = secret;
    e.mobile_phone = phone;
    e.delivery = *delivery;
    e.enabled_at = now;
    // With Verify, a texted code of the current factor is checked later, by Twilio.
    require_current_factor(
        caller, user, p, "currentCode", respond,
        [this, e = std::move(e), step = *step, uid = caller.uid, respond]() mutable {
            store_.enable(e, step);
            note_enrolled_country(e.mobile_phone);
            challenges_.erase_user(e.user);
            json recovery_codes = issue_recovery_codes(e.user);
            log::notice("two-factor enabled", {{"event", "enable"},
                                               {"user", e.user},
                                               {"delivery", delivery_name(e.delivery)},
                                               {"by_uid", std::to_string(uid)}});
            json reply = {
                {"user", e.user},
                {"delivery", delivery_name(e.delivery)},
                {"mobilePhone", e.mobile_phone.empty() ? json() : json(mask_phone(e.mobile_phone))},
                {"recoveryCodes", std::move(recovery_codes)}};
            respond(protocol::make_reply(reply));
            wipe_recovery_codes(reply);
        });
}

void Service::disable(const Caller& caller, const json& p, Respond& respond) {
    params::only(p, {"user", "code", "twoFactorId"});
    std::string user = params::user_name(p);
    authorize(caller, user);
    require_current_factor(
        caller, user, p, "code", respond, [this, user, uid = caller.uid, respond] {
            if (!store_.remove_enrollment(user)) throw refusals::not_enrolled(user);
            challenges_.erase_user(user);
            log::notice("two-factor disabled",
                        {{"event", "disable"}, {"user", user}, {"by_uid", std::to_string(uid)}});
            respond(protocol::make_reply({{"user", user}}));
        });
}

void Service::status(const Caller& caller, const json& p, Respond& respond) {
    params::only(p, {"user"});
    // Root without a user: what texts cost (the fleet's budgets) and how many are used. Not
    // for a login host's root over TLS: the busiest prefixes are other users' numbers.
    if (caller.is_root() && caller.host.empty() && !p.contains("user"))
        return respond(protocol::make_reply(sms_report(clock_())));
    std::string user = params::user_name(p);
    authorize(caller, user);
    auto e = store_.get_enrollment(user);
    FailureState state = store_.get_failures(user);
    const std::int64_t now = clock_();
    bool locked = state.locked_until > now;
    json reply = {
        {"user", user},
        {"enabled", e.has_value()},
        {"delivery", e ? json(delivery_name(e->delivery)) : json()},
        {"mobilePhone", e && !e->mobile_phone.empty() ? json(mask_phone(e->mobile_phone)) : json()},
        {"locked", locked},
        {"lockedUntil", locked ? json(state.locked_until) : json()},
        {"failures", state.failures},
        {"trusts", live_trusts(user, now)},
        {"recoveryCodesLeft", e ? store_.count_recovery_codes(user) : 0}};
    respond(protocol::make_reply(std::move(reply)));
}

void Service::unlock(const Caller& caller, const json& p, Respond& respond) {
    params::only(p, {"user"});
    std::string user = params::user_name(p);
    if (!caller.is_root())
        throw Refusal{err::PermissionDenied, {{"message", "only root may unlock an account"}}};
    reset_failures(user, std::nullopt);
    log::notice("account unlocked",
                {{"event", "unlock"}, {"user", user}, {"by_uid", std::to_string(caller.uid)}});
    respond(protocol::make_reply({{"user", user}}));
}

void Service::housekeeping() {
    std::int64_t now = clock_();
    challenges_.expire(now);
    store_.expire_trusts(now);
    // The budgets count a day; the per-user limits only their last hour.
    store_.prune_events(now - 86400);
    watch_conversion(now);
    text_limits_.sweep(now);
    log::sweep_callers();
    // A step older than the longest a challenge lives can match nothing any more.
    std::uint64_t horizon =
        static_cast<std::uint64_t>(settings_.login.challenge_lifetime / kStepSeconds + 4);
    std::uint64_t current = totp_step(now);
    if (current > horizon) store_.prune_steps(current - horizon);
}

}  // namespace twofactor
