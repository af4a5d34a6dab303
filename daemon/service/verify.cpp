// SPDX-License-Identifier: BSD-2-Clause
// Logins whose texted codes Twilio Verify makes and checks ([twilio] verify_service_sid): Begin
// starts a verification, resend starts it again (Verify sends the same code), and a code that
// is not an authenticator app's goes to VerificationCheck. Replay and lockout rules are the
// local ones: a wrong code costs a try and counts toward the lock, and Verify deletes an
// approved verification, so its code never works twice.
#include "common/phone.h"
#include "daemon/log/log.h"
#include "daemon/service/service.h"

namespace twofactor {

namespace err = protocol::error;
using protocol::json;

namespace {

// Verify keeps a pending verification this long; its limits are counted over it.
constexpr std::int64_t kVerifyLifetime = 600;

// Verify's refusals, as the protocol's errors: too many sends (60203) or checks (60202) are
// RateLimited; anything else it would not send (60200 a bad number, 60410 a blocked prefix,
// 60605 a blocked country) is DeliveryFailed with its code.
json verify_refusal(const SmsResult& result) {
    if (result.twilio_code == 60203)
        return protocol::make_error(
            err::RateLimited, {{"retryAfter", kVerifyLifetime},
                               {"message", "Twilio Verify sent this login's code too many times"}});
    if (result.twilio_code == 60202)
        return protocol::make_error(
            err::RateLimited,
            {{"retryAfter", kVerifyLifetime},
             {"message", "Twilio Verify checked this login's code too many times"}});
    return delivery_failure(result);
}

}  // namespace

void Service::begin_verification(const Challenge& c, const Enrollment& e, std::uint64_t step,
                                 TextOptions options, json reply, Respond& respond) {
    std::string id = c.id;
    std::string user = c.user;
    log::info("starting a verification", {{"user", user}, {"to", mask_phone(e.mobile_phone)}});
    messenger_.start_verification(e.mobile_phone, "sms", options,
                                  answering(respond, [this, respond, reply = std::move(reply), id,
                                                      user, step](const SmsResult& result) mutable {
                                      if (result.accepted) {
                                          log::info(
                                              "verification started",
                                              {{"user", user}, {"verification_sid", result.sid}});
                                          store_.set_texted_step(id, step);
                                          respond(protocol::make_reply(reply));
                                          return;
                                      }
                                      if (result.may_arrive) {
                                          log_undelivered(user, "verification may be late", result);
                                          store_.set_texted_step(id, step);
                                          reply["textMayBeLate"] = true;
                                          respond(protocol::make_reply(reply));
                                          return;
                                      }
                                      // No dead end: the app and recovery codes are checked here,
                                      // without Verify.
                                      log_undelivered(user, "verification not started", result);
                                      reply["textNotSent"] = verify_refusal(result);
                                      respond(protocol::make_reply(reply));
                                  }));
}

void Service::resend_verification(const Challenge& c, const Enrollment& e, std::uint64_t step,
                                  Respond& respond, const char* channel) {
    std::string id = c.id;
    std::string user = c.user;
    std::string masked = mask_phone(e.mobile_phone);
    const bool call = std::string_view(channel) == "call";
    messenger_.start_verification(
        e.mobile_phone, channel, TextOptions{},
        answering(respond, [this, respond, masked, user, call, id, step](const SmsResult& result) {
            json reply = {{"mobilePhone", masked}};
            if (call) reply["delivery"] = "Call";
            if (result.accepted) {
                log::info(call ? "verification call placed" : "verification sent again",
                          {{"user", user}, {"verification_sid", result.sid}});
                store_.set_texted_step(id, step);
                respond(protocol::make_reply(reply));
            } else if (result.may_arrive) {
                log_undelivered(user, "verification may be late", result);
                store_.set_texted_step(id, step);
                reply[call ? "callMayBeLate" : "textMayBeLate"] = true;
                respond(protocol::make_reply(reply));
            } else {
                log_undelivered(user, "verification not sent again", result);
                respond(verify_refusal(result));
            }
        }));
}

void Service::check_verification(const std::string& id, const Enrollment& e, SecureString code,
                                 const std::string& ip, const std::string& trust_host,
                                 Respond& respond) {
    std::string user = e.user;
    messenger_.check_verification(
        e.mobile_phone, std::move(code),
        answering(respond, [this, respond, id, user, ip, trust_host](const SmsResult& result) {
            std::int64_t now = clock_();
            if (result.accepted) {
                // The challenge says what the login asked to be trusted for.
                if (auto c = challenges_.find(id, now)) remember_trust(*c, trust_host, now);
                challenges_.erase(id);
                reset_failures(user, std::nullopt);
                log::notice("two-factor login succeeded",
                            {{"user", user}, {"ip", ip}, {"verification_sid", result.sid}});
                respond(protocol::make_reply({{"user", user}}));
                return;
            }
            auto c = challenges_.find(id, now);
            if (result.http_status == 200 && result.status == "pending") {
                if (!c) return respond(refusals::not_found(id).as_message());
                respond(wrong_code(*c, ip, now).as_message());
                return;
            }
            answer_unchecked_verification(id, user, result, now, respond);
        }));
}

void Service::answer_unchecked_verification(const std::string& id, const std::string& user,
                                            const SmsResult& result, std::int64_t now,
                                            const Respond& respond) {
    log_undelivered(user, "verification not checked", result);
    if (result.twilio_code == 20404 || result.http_status == 404) {
        // Verify's verification expired (10 minutes) or is gone: so is the challenge.
        challenges_.erase(id);
        return respond(refusals::not_found(id).as_message());
    }
    if (result.twilio_code == 60202) {
        // Verify checks no more codes of it: the challenge ends, and the guesses count.
        challenges_.erase(id);
        record_failure(user, now);
    }
    // Otherwise Twilio could not say: the code is neither taken nor counted as wrong.
    respond(verify_refusal(result));
}

void Service::check_factor_verification(const std::string& id, const Enrollment& e, uid_t uid,
                                        SecureString code, Respond& respond,
                                        std::function<void()> then) {
    std::string user = e.user;
    messenger_.check_verification(
        e.mobile_phone, std::move(code),
        answering(respond,
                  [this, respond, then = std::move(then), id, user, uid](const SmsResult& result) {
                      std::int64_t now = clock_();
                      if (result.accepted) {
                          log::info("factor change approved by Verify",
                                    {{"user", user}, {"verification_sid", result.sid}});
                          challenges_.erase(id);
                          reset_failures(user, std::nullopt);
                          then();
                          return;
                      }
                      if (result.http_status == 200 && result.status == "pending")
                          throw wrong_factor_code(user, uid, now);
                      answer_unchecked_verification(id, user, result, now, respond);
                  }));
}

}  // namespace twofactor
