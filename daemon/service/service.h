// SPDX-License-Identifier: BSD-2-Clause
// The two-factor methods of the wire protocol: who may call them, what they check, what they
// store and what they text. Transport-free: the server hands in a caller and a request and gets
// exactly one reply message back through `Respond`, possibly later (after Twilio answered).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "common/protocol.h"
#include "common/secure.h"
#include "daemon/config/settings.h"
#include "daemon/service/attributed_messenger.h"
#include "daemon/service/challenges.h"
#include "daemon/service/messenger.h"
#include "daemon/service/refusals.h"
#include "daemon/service/reply.h"
#include "daemon/service/sms_watch.h"
#include "daemon/service/text_limits.h"
#include "daemon/service/user_locks.h"
#include "daemon/store/store.h"

namespace twofactor {

struct Caller {
    Caller() = default;
    Caller(uid_t u, std::string name, std::string from = {})
        : uid(u), user(std::move(name)), host(std::move(from)) {}
    uid_t uid = 0;
    std::string user;  // login name of the uid; empty for root (never needed) and nameless uids
    // The login host a call came from over TLS (its certificate's name); empty for this host's
    // own socket. uid and user are then the host's caller, as its agent forwarded them.
    std::string host;
    bool is_root() const { return uid == 0; }
};

// How long the daemon leaves itself, out of a caller's timeout, to answer once Twilio's attempts
// end: Begin answers within the PAM module's timeout even when Twilio is slow.
inline constexpr std::int64_t kAnswerMarginSeconds = 2;

// The prefix a budget counts texts by: the E.164 number without its last four digits.
std::string number_prefix(const std::string& e164);

// Overwrites the `recoveryCodes` of a reply once it has been sent.
void wipe_recovery_codes(protocol::json& reply);

class Service {
public:
    using Respond = Reply;
    using Clock = std::function<std::int64_t()>;  // Unix seconds

    Service(const Settings& settings, Store& store, Messenger& messenger, Clock clock);

    // Runs one request; `respond` is called exactly once, now or from the event loop later.
    void handle(const Caller& caller, const protocol::Request& request, Respond respond);

    // Drops expired challenges, old rate-limit entries and used steps that can never match again.
    void housekeeping();

private:
    // What a text or call names (message_template.h): the PAM service ("login" when an older
    // module sent none) and the login host (the agent's name over TLS, else this host's).
    struct Named {
        std::string service, host;
    };
    using Handler = void (Service::*)(const Caller&, const protocol::json&, Respond&);

    void generate_secret(const Caller&, const protocol::json&, Respond&);
    void send_code(const Caller&, const protocol::json&, Respond&);
    void send_setup_code(const Caller&, const protocol::json&, Respond&);
    void resend_code(const Caller&, const protocol::json&, Respond&);
    void enable(const Caller&, const protocol::json&, Respond&);
    void disable(const Caller&, const protocol::json&, Respond&);
    void status(const Caller&, const protocol::json&, Respond&);
    void unlock(const Caller&, const protocol::json&, Respond&);
    void begin(const Caller&, const protocol::json&, Respond&);
    // login.cpp, the steps of Begin: what it asks; a trust that lets it skip the code (answered
    // here, true); the limits it takes (the text's wait, 0 when it may be texted); the
    // challenge with its step; the text of its code.
    struct BeginRequest {
        std::string user, ip, service, tty;
        std::optional<std::int64_t> caller_timeout;  // how long the PAM module waits
        TrustRequest trust;
    };
    BeginRequest begin_request(const Caller& caller, const protocol::json& p) const;
    bool answer_trusted(const BeginRequest& r, std::int64_t now, Respond& respond);
    std::int64_t take_begin_limits(const BeginRequest& r, const Enrollment& e, std::int64_t now);
    Challenge open_challenge(const BeginRequest& r, const Enrollment& e, std::int64_t now,
                             bool texting_now, std::optional<std::uint64_t>& step);
    protocol::json challenge_reply(const Challenge& c, const Enrollment& e) const;
    void text_login_code(const Challenge& c, const Enrollment& e, std::uint64_t step,
                         const Named& named, TextOptions options, protocol::json reply,
                         Respond& respond);
    void complete(const Caller&, const protocol::json&, Respond&);
    void forget(const Caller&, const protocol::json&, Respond&);
    void regenerate_recovery_codes(const Caller&, const protocol::json&, Respond&);

    // recovery.cpp: a fresh set of recovery codes for the user, replacing any earlier set;
    // returns them as shown once to the person.
    protocol::json issue_recovery_codes(const std::string& user);
    // Uses the typed recovery code if it is one of the user's: the number of codes left after
    // it, or nullopt (nothing used) when it is not.
    std::optional<int> use_recovery_code(const std::string& user, std::string_view typed);

    // Shared checks.
    void authorize(const Caller& caller, const std::string& user) const;
    std::string normalize_number(const std::string& input) const;
    void check_lock(const std::string& user, const FailureState& state, std::int64_t now) const;
    // Takes one text for the user (or "uid:N"): the machine's minute here, the user's hour in
    // the store; 0 when taken, else the seconds until one would be (nothing taken).
    // Then the fleet's budgets for `phone` (take_budget).
    std::int64_t take_text(const std::string& user_key, const std::string& phone, std::int64_t now);
    // sms_budget.cpp: one text from the fleet's budgets in the store (the number's prefix, then
    // the day): 0 when taken, else the wait, journalled as sms_budget. A setup text's country
    // must be enrolled already (or allowed), else InvalidParameter. The conversion of texted
    // challenges, journalled when low; what `status` without a user shows.
    std::int64_t take_budget(const std::string& phone, std::int64_t now);
    void check_setup_country(const std::string& phone, std::int64_t now);
    void note_enrolled_country(const std::string& phone);
    void watch_conversion(std::int64_t now);
    protocol::json sms_report(std::int64_t now);
    // Seconds until the store's hourly limit would let the user be texted: only to say how long
    // to wait after another limit refused; the store decides in take_event.
    std::int64_t user_text_wait(const std::string& user_key, std::int64_t now);
    // Takes a setup text's limits (text_limits.h, and the uid's hour in the store) or throws
    // the first refusal.
    void take_setup_text(const Caller& caller, const std::string& phone, std::int64_t now);
    // A success clears the user's failures; `known` (as read for the call) spares the statement
    // when there are none.
    void reset_failures(const std::string& user, const std::optional<FailureState>& known);
    std::uint64_t next_unused_step(const std::string& user, std::uint64_t from);
    // The step whose code `code` is (the challenge's texted one, or one an app shows now), used
    // or not; accepted_step: only if it is not used yet.
    std::optional<std::uint64_t> matching_step(const Enrollment& e, const Challenge* challenge,
                                               std::string_view code, std::int64_t now) const;
    std::optional<std::uint64_t> accepted_step(const Enrollment& e, const Challenge* challenge,
                                               std::string_view code, std::int64_t now);
    // The remote host and PAM service, when known, go into the lockout's audit event. Returns
    // the state the store counted.
    FailureState record_failure(const std::string& user, std::int64_t now,
                                std::string_view rhost = {}, std::string_view service = {});
    // A wrong code for challenge `c`: costs a try, counts toward the lock; the refusal to send.
    Refusal wrong_code(Challenge& c, const std::string& ip, std::int64_t now);

    // Twilio Verify makes and checks the texted codes (daemon/verify.cpp).
    bool uses_verify() const { return !settings_.twilio.verify_service_sid.empty(); }
    // Both mark the challenge with `step` once Verify sent its code: from then on a code that
    // is no app's is Verify's to check. Before, no code was sent and none goes to Verify.
    void begin_verification(const Challenge& c, const Enrollment& e, std::uint64_t step,
                            TextOptions options, protocol::json reply, Respond& respond);
    // `channel`: "sms", or "call" for `call` at the prompt.
    void resend_verification(const Challenge& c, const Enrollment& e, std::uint64_t step,
                             Respond& respond, const char* channel = "sms");
    // voice.cpp: whether a resend asks for a call (`delivery` "Call"; refused when [voice] is
    // not enabled), and the call itself, once the limits have been taken. `step` is the code's
    // (the challenge's, or a new one when no text went out).
    bool call_requested(const protocol::json& p) const;
    void call_code(const Challenge& c, const Enrollment& e, std::uint64_t step, const Named& named,
                   Respond& respond);
    // `trust_host`: where a trust the challenge asked for is bound, once Verify approves.
    void check_verification(const std::string& id, const Enrollment& e, SecureString code,
                            const std::string& ip, const std::string& trust_host, Respond& respond);
    // factor_change.cpp: a non-root caller proves the current factor with `code_field` (and
    // `twoFactorId` for a texted code), then `then` makes the change (at once, or, for a code
    // Twilio Verify texted, once Verify approved it). Consumes the code; a wrong one counts as
    // a failure and is answered through `respond`.
    void require_current_factor(const Caller& caller, const std::string& user,
                                const protocol::json& p, const char* code_field, Respond& respond,
                                std::function<void()> then);
    // A wrong code of the current factor: counts toward the lock; the refusal to send.
    Refusal wrong_factor_code(const std::string& user, uid_t uid, std::int64_t now);
    // verify.cpp: VerificationCheck for a factor change's texted code (challenge `id`).
    void check_factor_verification(const std::string& id, const Enrollment& e, uid_t uid,
                                   SecureString code, Respond& respond, std::function<void()> then);
    // A VerificationCheck that neither approved nor said "pending" (for a login or a factor
    // change alike): an expired verification ends the challenge, Verify's 60202 ends it and
    // counts a failure, anything else changes nothing; the refusal goes through `respond`.
    void answer_unchecked_verification(const std::string& id, const std::string& user,
                                       const SmsResult& result, std::int64_t now,
                                       const Respond& respond);
    // Runs `work`, answering whatever it throws through `respond`: a Refusal as itself, a store
    // that cannot be reached as Unavailable until the call has acted and InternalError after,
    // anything else as InternalError.
    void guarded(const Respond& respond, const std::function<void()>& work);
    // A provider's callback that runs `work` guarded: a store failure while handling Twilio's
    // answer is an answer too. The call has acted once something is sent.
    Messenger::Callback answering(const Respond& respond,
                                  std::function<void(const SmsResult&)> work);
    // trust.cpp: what a Begin asks to be trusted for (empty when it may not ask), the end of
    // the live trust that lets it skip the code, recording one after a success, and the list
    // `status` shows.
    TrustRequest trust_request(const Caller& caller, const protocol::json& p,
                               const std::string& service, const std::string& ip,
                               const std::string& tty) const;
    // The host a caller's trusts are made for and honoured on: the login host a call came from
    // over TLS (its certificate's name), else this daemon's own host_id_.
    const std::string& trust_host(const Caller& caller) const;
    std::optional<std::int64_t> trusted_until(const std::string& user, const TrustRequest& request,
                                              std::int64_t now);
    // `host`: trust_host() of the caller who completed the challenge. A challenge begun through
    // a login host is completed through that host only (HostPolicy binds its id to the host).
    void remember_trust(const Challenge& c, const std::string& host, std::int64_t now);
    // The store's observer of trust rows whose MAC does not match: logs each such row once.
    static void log_forged_trust(const Trust& t);
    protocol::json live_trusts(const std::string& user, std::int64_t now);
    Named named(const Caller& caller, const std::string& service) const;
    void send_text(const std::string& phone, const std::string& code, const std::string& user,
                   const Named& named, TextOptions options,
                   std::function<void(const SmsResult&)> done);

    const Settings& settings_;
    // The host this daemon's trusts are made for and honoured on (service/host_id.h).
    const std::string host_id_;
    // This host's name, for {host} in the texts of its own logins.
    const std::string host_name_;
    Store& store_;
    // Twilio's answers count toward the log budget of the caller who sent the text.
    AttributedMessenger messenger_;
    Clock clock_;
    Challenges challenges_;
    // Texts per user count in the store, so that every host of a fleet sees the same hour; the
    // other limits protect this host and stay in memory, under their own lock.
    TextLimits text_limits_;
    // Choosing a step for a user's code and storing it in the challenge is one hold of the
    // user's lock: two logins close together never get the same code.
    UserLocks step_locks_;
    // Conversion, enrolled country codes, and the budget's journal lines (sms_watch.h).
    SmsWatch watch_;
};

}  // namespace twofactor
