// SPDX-License-Identifier: BSD-2-Clause
// `call` at the prompt ([voice] enabled): a SendCode with `delivery` "Call" rings the phone of
// the challenge and reads its code, through Twilio's Calls API with inline TwiML, or through
// Verify's call channel. A call is counted as a text: the same per-user, machine-wide and
// per-challenge limits, taken by resend_code before it gets here.
#include "common/phone.h"
#include "common/totp.h"
#include "daemon/log/log.h"
#include "daemon/service/message_template.h"
#include "daemon/service/params.h"
#include "daemon/service/service.h"
#include "daemon/twilio/twiml.h"

namespace twofactor {

using protocol::json;

bool Service::call_requested(const json& p) const {
    const auto delivery = params::optional_string(p, "delivery", 32);
    if (!delivery || *delivery == "TextMessage") return false;
    if (*delivery != "Call") throw params::invalid("delivery", "must be TextMessage or Call");
    if (!settings_.voice.enabled) throw params::invalid("delivery", "calls are not enabled here");
    return true;
}

void Service::call_code(const Challenge& c, const Enrollment& e, std::uint64_t step,
                        const Named& named, Respond& respond) {
    if (uses_verify()) {
        resend_verification(c, e, step, respond, "call");
        return;
    }
    std::string user = c.user;
    std::string id = c.id;
    std::string masked = mask_phone(e.mobile_phone);
    // The code the challenge accepts: the one its texts carry, or, when no text went out, the
    // step this call gives it (held before the call rings).
    const bool had_step = c.texted_step.has_value();
    if (!had_step) store_.set_texted_step(id, step);
    std::string code = totp_code(e.secret.view(), step);
    // The call names what it unlocks, as the text does.
    const std::string intro = message_template::render(message_template::kDefaultCallIntro, "",
                                                       named.service, named.host);
    SecureString twiml = code_reading_twiml(intro, code);
    wipe(code);
    log::info("placing a call", {{"user", user}, {"to", masked}});
    messenger_.call(
        e.mobile_phone, std::move(twiml), TextOptions{},
        answering(respond, [this, respond, masked, user, id, had_step](const SmsResult& result) {
            json reply = {{"mobilePhone", masked}, {"delivery", "Call"}};
            if (result.accepted) {
                log::info("voice call accepted", {{"user", user}, {"call_sid", result.sid}});
                respond(protocol::make_reply(reply));
            } else if (result.may_arrive) {
                // Twilio may have queued it: never placed twice by itself.
                log_undelivered(user, "voice call may be late", result);
                reply["callMayBeLate"] = true;
                respond(protocol::make_reply(reply));
            } else {
                log_undelivered(user, "voice call not placed", result);
                if (!had_step) store_.set_texted_step(id, std::nullopt);
                respond(delivery_failure(result));
            }
        }));
}

}  // namespace twofactor
