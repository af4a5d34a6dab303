// SPDX-License-Identifier: BSD-2-Clause
#include "pam/flow.h"

#include <security/pam_ext.h>
#include <syslog.h>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/client.h"
#include "common/protocol.h"
#include "common/recovery_code_shape.h"
#include "common/secure.h"
#include "common/wording.h"
#include "pam/account.h"
#include "pam/conversation.h"
#include "pam/groups.h"
#include "pam/log.h"
#include "pam/not_texted.h"
#include "pam/outcomes.h"

namespace twofactor::pam {
namespace {

using protocol::json;

// `resend` and `call` answers beyond this count as wrong tries, so the prompt loop always ends.
constexpr int kMaxResendRequests = 5;
// Every refusal asks libpam to hold the answer back this long, as pam_unix does: a guesser
// learns nothing sooner from a wrong code than from a wrong password. libpam applies it once,
// at the end of pam_authenticate, randomised by up to half either way.
constexpr unsigned kFailDelayMicroseconds = 2'000'000;
constexpr const char* kNoMoreTexts =
    "No more codes can be texted for this login; use the last one.";
constexpr const char* kNoCalls = "Calls are not enabled here.";

// After a login with a recovery code: how many are left, and how to get more before they run out.
std::string recovery_code_used(std::int64_t left) {
    std::string said = "You used a recovery code; " + std::to_string(left) +
                       (left == 1 ? " is" : " are") + " left.";
    if (left <= 3) said += " Run 'twofactorctl recovery-codes' for a new set.";
    return said;
}

std::optional<std::string> string_field(const json& object, const char* key) {
    auto found = object.find(key);
    if (found == object.end() || !found->is_string()) return std::nullopt;
    return found->get<std::string>();
}

std::optional<std::int64_t> number_field(const json& object, const char* key) {
    auto found = object.find(key);
    if (found == object.end() || !found->is_number_integer()) return std::nullopt;
    return found->get<std::int64_t>();
}

// The daemon refuses `ipAddress`, `service` and `tty` longer than this (an over-long PAM_RHOST
// host name must not turn into a failed login): they are sent cut to this length.
constexpr std::size_t kMaxContextField = 255;

std::string pam_item(pam_handle_t* pamh, int type) {
    const void* item = nullptr;
    if (pam_get_item(pamh, type, &item) != PAM_SUCCESS || item == nullptr) return {};
    return static_cast<const char*>(item);
}

std::string for_daemon(const std::string& value) {
    return value.substr(0, kMaxContextField);
}

std::string_view trimmed(std::string_view text) {
    const auto first = text.find_first_not_of(" \t\r\n");
    if (first == std::string_view::npos) return {};
    const auto last = text.find_last_not_of(" \t\r\n");
    return text.substr(first, last - first + 1);
}

// The client refuses a socket served by another uid; that is an impostor, not an outage, and
// never falls under failmode=safe.
bool is_impostor(const Unreachable& error) {
    return dynamic_cast<const Impostor*>(&error) != nullptr;
}

// Where a login ends: the outcome, what the sentence needs, and why, for the log.
struct Ending {
    Outcome outcome;
    OutcomeDetails details{};
    std::string reason{};
};

// A daemon error that ends the login, whichever call it answered.
Ending ending_for_error(const CallResult& reply, std::string_view call) {
    const std::string where = std::string(call) + ": ";
    const json& p = reply.parameters;
    if (reply.error == protocol::error::NotEnrolled) return {Outcome::NotEnrolled};
    if (reply.error == protocol::error::NotFound)
        return {Outcome::Expired, {}, where + "challenge unknown, used up or expired"};
    if (reply.error == protocol::error::Locked) {
        OutcomeDetails details;
        details.locked_until = number_field(p, "lockedUntil").value_or(0);
        return {Outcome::Locked, details,
                where + "locked until " + std::to_string(details.locked_until)};
    }
    if (reply.error == protocol::error::DeliveryFailed) {
        // Twilio's message may quote the number: log its codes only.
        return {Outcome::DeliveryFailed,
                {},
                where + "Twilio error " + std::to_string(number_field(p, "code").value_or(0)) +
                    ", HTTP status " + std::to_string(number_field(p, "status").value_or(0))};
    }
    if (reply.error == protocol::error::RateLimited) {
        OutcomeDetails details;
        details.retry_after = number_field(p, "retryAfter").value_or(0);
        return {Outcome::RateLimited, details,
                where + "retry after " + std::to_string(details.retry_after) + " s"};
    }
    if (reply.error == protocol::error::PermissionDenied)
        return {Outcome::PermissionDenied, {}, where + "the daemon refused this caller"};
    if (reply.error == protocol::error::InternalError)
        return {Outcome::DaemonFailed, {}, where + "the daemon failed; see its journal"};
    if (reply.error == protocol::error::InvalidParameter)
        return {Outcome::ProtocolError,
                {},
                where + "invalid parameter " + printable(string_field(p, "field").value_or("?")) +
                    ": " + printable(string_field(p, "reason").value_or("?"))};
    return {Outcome::ProtocolError, {}, where + "unexpected error " + printable(reply.error)};
}

class Login {
public:
    Login(pam_handle_t* pamh, int flags, const Options& options)
        : pamh_(pamh),
          options_(options),
          silent_((flags & PAM_SILENT) != 0),
          conversation_(pamh, silent_) {}

    int run() {
        const char* user = nullptr;
        const int status = pam_get_user(pamh_, &user, nullptr);
        if (status == PAM_CONV_AGAIN) return PAM_INCOMPLETE;
        if (status != PAM_SUCCESS) {
            log(pamh_, LOG_ERR,
                std::string("cannot get the user name: ") + pam_strerror(pamh_, status));
            return status;
        }
        user_ = user != nullptr ? user : "";
        rhost_ = pam_item(pamh_, PAM_RHOST);
        service_ = pam_item(pamh_, PAM_SERVICE);
        tty_ = pam_item(pamh_, PAM_TTY);
        if (user_.empty()) return finish({Outcome::NoUser, {}, "empty user name"});
        // The account's own name from here on: "ALICE" is alice where NSS ignores case.
        const Account account = find_account(user_);
        if (account.lookup == Account::Lookup::Unknown)
            return finish({Outcome::UnknownUser, {}, "no such account"});
        if (account.lookup == Account::Lookup::Failed)
            return finish(
                {Outcome::UnknownUser, {}, "cannot look up the account: " + account.error});
        user_ = account.name;
        if (options_.groups && !inside_groups())
            return finish({Outcome::OutsideGroups, {}, "no group of the user is inside groups="});

        Ending ending{Outcome::ProtocolError};
        try {
            ending = challenge();
        } catch (const Unreachable& error) {
            // failmode=safe covers a daemon that cannot be reached to start the challenge, and
            // nothing after: once a challenge exists, only an accepted code lets the user in.
            // (Begin answers within `timeout` even when Twilio is slow, so a Begin without an
            // answer is a daemon that is down or hung, not a late text.)
            const bool let_in =
                options_.failmode == FailMode::Safe && !is_impostor(error) && !challenge_started_;
            ending = {let_in ? Outcome::UnreachableLetIn : Outcome::Unreachable, {}, error.what()};
        } catch (const json::exception& error) {
            ending = {Outcome::ProtocolError, {}, std::string("bad reply: ") + error.what()};
        }
        if (ending.outcome == Outcome::NotEnrolled && options_.nullok)
            ending.outcome = Outcome::NotEnrolledIgnored;
        return finish(ending);
    }

private:
    // Every call gets its own connection: a user may take longer to type a code than the
    // daemon keeps an idle connection open.
    CallResult call(std::string_view method, const json& parameters) {
        Client client(options_.socket, options_.timeout);
        CallResult reply = client.call(method, parameters);
        // The daemon answered but cannot reach its store (a fleet's PostgreSQL is down): the
        // same as no daemon at all, so failmode decides.
        if (reply.error == protocol::error::Unavailable)
            throw Unreachable(std::string(method) + ": the daemon cannot reach its database");
        return reply;
    }

    bool inside_groups() {
        const auto names = group_names_of(user_);
        if (!names) {
            log(pamh_, LOG_WARNING,
                context() + "cannot read the user's groups; asking for the code as for a member");
            return true;
        }
        if (groups_match(*options_.groups, *names)) return true;
        // Outside, unless a source that is down kept the groups that would put the user inside.
        if (const auto trouble = group_database_trouble()) {
            log(pamh_, LOG_WARNING,
                context() + "cannot tell for certain whether the user is inside groups=: " +
                    *trouble + "; asking for the code as for a member");
            return true;
        }
        return false;
    }

    Ending challenge() {
        json begin{{"user", user_}};
        if (!rhost_.empty()) begin["ipAddress"] = for_daemon(rhost_);
        if (!service_.empty()) begin["service"] = for_daemon(service_);
        if (!tty_.empty()) begin["tty"] = for_daemon(tty_);
        // The daemon answers within this, even when Twilio is slow (the text may come later).
        begin["timeout"] = static_cast<std::int64_t>(options_.timeout.count());
        if (options_.trust.count() > 0) begin["trust"] = options_.trust.count();
        const CallResult reply = call(protocol::method::Begin, begin);
        if (!reply.ok()) return ending_for_error(reply, "Begin");
        if (auto trusted = reply.parameters.find("trusted");
            trusted != reply.parameters.end() && *trusted == true)
            return trusted_ending(reply);

        const auto id = string_field(reply.parameters, "twoFactorId");
        const auto delivery = string_field(reply.parameters, "delivery");
        if (!id || id->empty() || !delivery)
            return {Outcome::ProtocolError, {}, "Begin: reply without twoFactorId or delivery"};
        two_factor_id_ = *id;
        challenge_started_ = true;
        texted_ = *delivery == "TextMessage";
        if (auto voice = reply.parameters.find("voice"); voice != reply.parameters.end())
            voice_ = voice->is_boolean() && voice->get<bool>();
        if (!texted_ && *delivery != "None")
            return {Outcome::ProtocolError, {}, "Begin: unknown delivery " + printable(*delivery)};

        if (texted_) {
            phone_ = string_field(reply.parameters, "mobilePhone").value_or("your phone");
            if (auto refusal = reply.parameters.find("textNotSent");
                refusal != reply.parameters.end()) {
                // No dead end: the app's code and a recovery code still get in.
                text_on_its_way_ = false;
                log(pamh_, LOG_WARNING,
                    context() + "Begin: the code was not texted: " + not_texted_reason(*refusal));
                conversation_.error(not_texted_sentence(*refusal, phone_) +
                                    (voice_ ? " Or type call to hear a code on the phone." : ""));
            } else if (may_be_late(reply))
                conversation_.info(late_text_sentence());
            else
                conversation_.info("A verification code was texted to " + phone_ +
                                   (voice_ ? ". Type resend to get a new one, or call to hear "
                                             "it on the phone."
                                           : ". Type resend to get a new one."));
        } else {
            conversation_.info("Enter the 6-digit code from your authenticator app.");
        }
        if (options_.debug)
            log(pamh_, LOG_DEBUG,
                "challenge begun for user " + printable(user_) + ", delivery " + *delivery +
                    ", expires in " +
                    std::to_string(number_field(reply.parameters, "expiresIn").value_or(0)) + " s");
        return prompt_until_done();
    }

    Ending prompt_until_done() {
        // Under PAM_SILENT (sudo's default) the info line saying where the code went is dropped;
        // a prompt always shows, so it carries the masked number instead.
        int wrong = 0;
        int resends = 0;
        int refused_calls = 0;
        while (wrong < options_.tries) {
            const std::string prompt = !texted_            ? "Authenticator app code: "
                                       : !text_on_its_way_ ? kNotTextedPrompt
                                       : silent_ ? "Verification code (texted to " + phone_ +
                                                       (voice_ ? "; or type call): " : "): ")
                                                 : "Verification code: ";
            std::optional<SecureString> answer = conversation_.ask(prompt, options_.echo);
            if (!answer) return {Outcome::ConversationFailed, {}, "the application could not ask"};
            const SecureString typed(trimmed(answer->view()));
            answer.reset();

            const bool call_typed = typed.view() == "call";
            if (call_typed && !voice_) {
                // Not a wrong code, but bounded like one so the loop always ends.
                if (++refused_calls > kMaxResendRequests) ++wrong;
                conversation_.error(kNoCalls);
                continue;
            }
            if ((typed.view() == "resend" || call_typed) && resends < kMaxResendRequests) {
                ++resends;
                if (auto ending = call_typed ? ring() : resend()) return *ending;
                continue;
            }
            if (typed.view() == "resend" || call_typed) {
                ++wrong;
                conversation_.error(kNoMoreTexts);
                continue;
            }
            if (!is_code_shaped(typed.view()) && !normalize_recovery_code(typed.view())) {
                ++wrong;
                conversation_.error("A code is 6 digits.");
                continue;
            }
            json complete{{"twoFactorId", two_factor_id_}, {"code", ""}};
            // Written in place so the one copy of the code in the request is the one wiped.
            complete["code"].get_ref<std::string&>().assign(typed.view());
            if (!rhost_.empty()) complete["ipAddress"] = for_daemon(rhost_);
            const CallResult reply = call(protocol::method::Complete, complete);
            wipe(complete["code"].get_ref<std::string&>());
            if (reply.ok()) return accepted(reply);
            if (reply.error == protocol::error::DeliveryFailed) {
                // Twilio Verify could not check the code: the app's and recovery codes are
                // checked without it. A try all the same, so the prompt ends.
                ++wrong;
                log(pamh_, LOG_ERR, context() + ending_for_error(reply, "Complete").reason);
                conversation_.error(
                    "That code could not be checked with Twilio; type the code from your "
                    "authenticator app or a recovery code.");
                continue;
            }
            if (reply.error != protocol::error::InvalidCode)
                return ending_for_error(reply, "Complete");

            ++wrong;
            std::int64_t left = options_.tries - wrong;
            if (auto daemon_left = number_field(reply.parameters, "attemptsLeft"))
                left = std::min(left, *daemon_left);
            if (left <= 0)
                return {Outcome::TooManyTries, {}, "wrong codes: " + std::to_string(wrong)};
            conversation_.error("That code is wrong; " + tries_left(left) + ".");
        }
        return {Outcome::TooManyTries, {}, "wrong codes: " + std::to_string(wrong)};
    }

    Ending accepted(const CallResult& reply) {
        // The daemon names the challenge's user; anyone else means a confused daemon.
        const auto who = string_field(reply.parameters, "user");
        if (who && *who != user_)
            return {Outcome::ProtocolError, {}, "Complete: the challenge belongs to another user"};
        if (const auto left = number_field(reply.parameters, "recoveryCodesLeft")) {
            conversation_.info(recovery_code_used(*left));
            return {Outcome::Success, {}, "a recovery code was used"};
        }
        return {Outcome::Success};
    }

    // The daemon found a live trust: no challenge, no text. Only when this module asked for one.
    Ending trusted_ending(const CallResult& reply) {
        if (options_.trust.count() <= 0)
            return {Outcome::ProtocolError, {}, "Begin: trusted, but trust= was not given"};
        const auto who = string_field(reply.parameters, "user");
        if (!who || *who != user_)
            return {Outcome::ProtocolError, {}, "Begin: trusted, but for another user"};
        return {Outcome::Trusted,
                {},
                "trusted until " +
                    std::to_string(number_field(reply.parameters, "trustedUntil").value_or(0))};
    }

    // Texts the code again; an Ending only when the login cannot go on.
    std::optional<Ending> resend() {
        if (!texted_) {
            conversation_.error(
                "Your codes come from your authenticator app; no code can be texted.");
            return std::nullopt;
        }
        const CallResult reply =
            call(protocol::method::SendCode, json{{"twoFactorId", two_factor_id_}});
        if (reply.ok()) {
            phone_ = string_field(reply.parameters, "mobilePhone").value_or(phone_);
            text_on_its_way_ = true;
            if (may_be_late(reply))
                conversation_.info(late_text_sentence());
            else
                conversation_.info("A new code was texted to " + phone_ + ".");
            return std::nullopt;
        }
        const bool refused = reply.error == protocol::error::RateLimited ||
                             reply.error == protocol::error::DeliveryFailed;
        if (refused && !text_on_its_way_) {
            // Still no text: say why again, and what gets in without one.
            const json refusal{{"error", reply.error}, {"parameters", reply.parameters}};
            log(pamh_, LOG_WARNING,
                context() + "SendCode: the code was not texted: " + not_texted_reason(refusal));
            conversation_.error(not_texted_sentence(refusal, phone_));
            return std::nullopt;
        }
        if (reply.error == protocol::error::RateLimited) {
            conversation_.error(kNoMoreTexts);
            return std::nullopt;
        }
        if (reply.error == protocol::error::DeliveryFailed) {
            log(pamh_, LOG_ERR, context() + ending_for_error(reply, "SendCode").reason);
            conversation_.error("The new code could not be texted; use the last one.");
            return std::nullopt;
        }
        return ending_for_error(reply, "SendCode");
    }

    // `call`: the daemon rings the phone and reads the code; an Ending only when the login
    // cannot go on. Only where Begin offered calls.
    std::optional<Ending> ring() {
        if (!texted_) {
            conversation_.error("Your codes come from your authenticator app; no call is made.");
            return std::nullopt;
        }
        const CallResult reply = call(protocol::method::SendCode,
                                      json{{"twoFactorId", two_factor_id_}, {"delivery", "Call"}});
        if (reply.ok()) {
            phone_ = string_field(reply.parameters, "mobilePhone").value_or(phone_);
            text_on_its_way_ = true;
            auto late = reply.parameters.find("callMayBeLate");
            if (late != reply.parameters.end() && late->is_boolean() && late->get<bool>())
                conversation_.info("The call to " + phone_ +
                                   " may be late. Type the code when you hear it, or type "
                                   "call or resend to try again.");
            else
                conversation_.info("Calling " + phone_ + " now; the code is read twice.");
            return std::nullopt;
        }
        if (reply.error == protocol::error::RateLimited) {
            const auto wait = number_field(reply.parameters, "retryAfter").value_or(0);
            conversation_.error("No call can be made now; try again in " + wait_time(wait) +
                                (text_on_its_way_ ? ", or use the last code."
                                                  : ", or use your authenticator app's code or "
                                                    "a recovery code."));
            return std::nullopt;
        }
        if (reply.error == protocol::error::DeliveryFailed) {
            log(pamh_, LOG_ERR, context() + ending_for_error(reply, "SendCode").reason);
            conversation_.error(text_on_its_way_
                                    ? "The call could not be placed; use the last code."
                                    : "The call could not be placed; use your authenticator "
                                      "app's code or a recovery code.");
            return std::nullopt;
        }
        if (reply.error == protocol::error::InvalidParameter) {
            // A daemon whose [voice] was turned off since Begin.
            conversation_.error(kNoCalls);
            return std::nullopt;
        }
        return ending_for_error(reply, "SendCode");
    }

    // Twilio did not confirm the text (no answer in time, or a 5xx after the request went
    // out): it may still arrive, and was not sent twice.
    static bool may_be_late(const CallResult& reply) {
        auto found = reply.parameters.find("textMayBeLate");
        return found != reply.parameters.end() && found->is_boolean() && found->get<bool>();
    }

    std::string late_text_sentence() const {
        return "The code texted to " + phone_ +
               " may be late. Type it when it comes, or type resend to get another; the code "
               "from your authenticator app or a recovery code works too.";
    }

    std::string context() const {
        return "user=" + printable(user_) + " service=" + printable(service_) +
               " tty=" + printable(tty_) + " rhost=" + printable(rhost_) + ": ";
    }

    int finish(const Ending& ending) {
        const OutcomeEntry& entry = describe(ending.outcome);
        const std::string said = sentence(ending.outcome, ending.details);
        if (!said.empty()) conversation_.error(said);
        std::string line = context() + entry.name + " (" + pam_code_name(entry.pam_code) + ")";
        if (!ending.reason.empty()) line += ": " + ending.reason;
        if (ending.outcome == Outcome::UnreachableLetIn)
            line += "; letting the user in because failmode=safe";
        log(pamh_, entry.log_priority, line);
        if (entry.pam_code != PAM_SUCCESS && entry.pam_code != PAM_IGNORE)
            pam_fail_delay(pamh_, kFailDelayMicroseconds);
        return entry.pam_code;
    }

    pam_handle_t* pamh_;
    const Options& options_;
    bool silent_;
    Conversation conversation_;
    std::string user_, rhost_, service_, tty_;
    std::string two_factor_id_;
    std::string phone_;
    bool texted_ = false;
    bool voice_ = false;              // Begin offered `call`
    bool text_on_its_way_ = true;     // false while no text (or call) of this challenge went out
    bool challenge_started_ = false;  // Begin gave a twoFactorId: failmode=safe no longer applies
};

}  // namespace

int authenticate(pam_handle_t* pamh, int flags, const Options& options) {
    return Login(pamh, flags, options).run();
}

}  // namespace twofactor::pam
