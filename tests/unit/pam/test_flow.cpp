// SPDX-License-Identifier: BSD-2-Clause
// The whole second factor against a scripted daemon and a real libpam handle: what is sent,
// what the user reads, what is logged and which PAM code comes back, for every outcome.
#include <security/pam_appl.h>
#include <syslog.h>

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <deque>
#include <string>

#include "fake_daemon.h"
#include "pam/flow.h"
#include "pam/options.h"
#include "scripted_pam.h"
#include "syslog_capture.h"

#include <csetjmp>
#include <cstdarg>
#include <cstddef>
#include <cstdint>
extern "C" {
#include <cmocka.h>
}

using twofactor::pam::FailMode;
using twofactor::pam::Options;
using twofactor::protocol::json;
using twofactor::test::FakeDaemon;
using twofactor::test::log_contains;
using twofactor::test::ScriptedPam;

namespace {

Options options_for(const FakeDaemon& daemon) {
    Options options;
    options.socket = daemon.socket_path();
    options.timeout = std::chrono::seconds(2);
    return options;
}

json texted() {
    return {{"twoFactorId", "tf-1"},
            {"delivery", "TextMessage"},
            {"mobilePhone", "***-***-5555"},
            {"expiresIn", 300},
            {"attemptsLeft", 5}};
}

json app_code() {
    return {{"twoFactorId", "tf-2"},
            {"delivery", "None"},
            {"mobilePhone", nullptr},
            {"expiresIn", 300},
            {"attemptsLeft", 5}};
}

// A handle as sshd would set it up.
int authenticate(ScriptedPam& pam, const Options& options, int flags = 0) {
    pam.set_item(PAM_RHOST, "203.0.113.9");
    pam.set_item(PAM_TTY, "pts/3");
    twofactor::test::clear_captured_log();
    return twofactor::pam::authenticate(pam.handle(), flags, options);
}

bool logged_at(int priority, const std::string& text) {
    for (const auto& line : twofactor::test::captured_log())
        if (line.priority == priority && line.text.find(text) != std::string::npos) return true;
    return false;
}

void test_right_code(void**) {
    FakeDaemon daemon;
    daemon.reply(texted());
    daemon.reply({{"user", "alice"}});
    ScriptedPam pam({"123456"});
    assert_int_equal(authenticate(pam, options_for(daemon)), PAM_SUCCESS);

    const auto requests = daemon.requests();
    assert_int_equal(requests.size(), 2);
    assert_string_equal(requests[0].method.c_str(), "io.twofactor.Begin");
    assert_true(requests[0].parameters == json({{"user", "alice"},
                                                {"ipAddress", "203.0.113.9"},
                                                {"service", "twofactor-unit"},
                                                {"tty", "pts/3"},
                                                {"timeout", 2}}));
    assert_string_equal(requests[1].method.c_str(), "io.twofactor.Complete");
    assert_true(requests[1].parameters ==
                json({{"twoFactorId", "tf-1"}, {"code", "123456"}, {"ipAddress", "203.0.113.9"}}));

    assert_true(pam.said("info: A verification code was texted to ***-***-5555."));
    assert_true(pam.said("prompt: Verification code: "));
    assert_int_equal(pam.prompts(), 1);
    assert_true(logged_at(LOG_INFO,
                          "user=alice service=twofactor-unit tty=pts/3 rhost=203.0.113.9: success "
                          "(PAM_SUCCESS)"));
    assert_false(log_contains("123456"));
    assert_false(log_contains("5555"));
}

void test_trusted_login_asks_nothing(void**) {
    FakeDaemon daemon;
    daemon.reply({{"user", "alice"}, {"trusted", true}, {"trustedUntil", 1900000000}});
    ScriptedPam pam({});
    Options options = options_for(daemon);
    options.trust = std::chrono::seconds(600);
    assert_int_equal(authenticate(pam, options), PAM_SUCCESS);
    const auto requests = daemon.requests();
    assert_int_equal(requests.size(), 1);
    assert_int_equal(requests[0].parameters["trust"].get<int>(), 600);
    assert_int_equal(pam.prompts(), 0);
    assert_true(logged_at(LOG_INFO, "trusted (PAM_SUCCESS): trusted until 1900000000"));
}

// A daemon that answers "trusted" to a module that asked for no trust, or for another user, is
// confused: the login fails rather than passes.
void test_unasked_trust_is_refused(void**) {
    {
        FakeDaemon daemon;
        daemon.reply({{"user", "alice"}, {"trusted", true}, {"trustedUntil", 1900000000}});
        ScriptedPam pam({});
        assert_int_equal(authenticate(pam, options_for(daemon)), PAM_SERVICE_ERR);
        assert_false(daemon.requests()[0].parameters.contains("trust"));
    }
    FakeDaemon daemon;
    daemon.reply({{"user", "mallory"}, {"trusted", true}, {"trustedUntil", 1900000000}});
    ScriptedPam pam({});
    Options options = options_for(daemon);
    options.trust = std::chrono::seconds(600);
    assert_int_equal(authenticate(pam, options), PAM_SERVICE_ERR);
}

void test_spaces_around_the_code_are_dropped(void**) {
    FakeDaemon daemon;
    daemon.reply(texted());
    daemon.reply({{"user", "alice"}});
    ScriptedPam pam({" 654321\t"});
    assert_int_equal(authenticate(pam, options_for(daemon)), PAM_SUCCESS);
    assert_string_equal(daemon.requests()[1].parameters["code"].get<std::string>().c_str(),
                        "654321");
}

void test_wrong_then_right(void**) {
    FakeDaemon daemon;
    daemon.reply(texted());
    daemon.error("InvalidCode", {{"attemptsLeft", 4}});
    daemon.reply({{"user", "alice"}});
    ScriptedPam pam({"111111", "222222"});
    assert_int_equal(authenticate(pam, options_for(daemon)), PAM_SUCCESS);
    assert_true(pam.said("error: That code is wrong; 2 tries left."));
    assert_int_equal(pam.prompts(), 2);
    assert_false(log_contains("111111"));
}

void test_too_many_tries(void**) {
    FakeDaemon daemon;
    daemon.reply(texted());
    daemon.error("InvalidCode", {{"attemptsLeft", 4}});
    daemon.error("InvalidCode", {{"attemptsLeft", 3}});
    Options options = options_for(daemon);
    options.tries = 2;
    ScriptedPam pam({"111111", "222222", "333333"});
    assert_int_equal(authenticate(pam, options), PAM_MAXTRIES);
    assert_int_equal(daemon.requests().size(), 3);
    assert_true(pam.said("error: That code is wrong; 1 try left."));
    assert_true(pam.said("error: Too many wrong codes; please log in again."));
    assert_int_equal(pam.answers_left(), 1);
    assert_true(logged_at(LOG_WARNING, "too many tries (PAM_MAXTRIES)"));
}

void test_daemon_out_of_attempts_ends_early(void**) {
    FakeDaemon daemon;
    daemon.reply(texted());
    daemon.error("InvalidCode", {{"attemptsLeft", 0}});
    ScriptedPam pam({"111111", "222222"});
    assert_int_equal(authenticate(pam, options_for(daemon)), PAM_MAXTRIES);
    assert_int_equal(pam.prompts(), 1);
}

void test_not_six_digits_counts_but_is_not_sent(void**) {
    FakeDaemon daemon;
    daemon.reply(texted());
    Options options = options_for(daemon);
    options.tries = 3;
    ScriptedPam pam({"12345", "abcdef", "1234567"});
    assert_int_equal(authenticate(pam, options), PAM_MAXTRIES);
    assert_int_equal(daemon.requests().size(), 1);  // Begin only
    int said = 0;
    for (const auto& line : pam.transcript())
        if (line == "error: A code is 6 digits.") ++said;
    assert_int_equal(said, 3);
}

void test_resend(void**) {
    FakeDaemon daemon;
    daemon.reply(texted());
    daemon.reply({{"mobilePhone", "***-***-5555"}});
    daemon.reply({{"user", "alice"}});
    Options options = options_for(daemon);
    options.tries = 1;  // resend is not a try
    ScriptedPam pam({"resend", "123456"});
    assert_int_equal(authenticate(pam, options), PAM_SUCCESS);
    const auto requests = daemon.requests();
    assert_int_equal(requests.size(), 3);
    assert_string_equal(requests[1].method.c_str(), "io.twofactor.SendCode");
    assert_true(requests[1].parameters == json({{"twoFactorId", "tf-1"}}));
    assert_true(pam.said("info: A new code was texted to ***-***-5555."));
}

void test_resend_refused_keeps_prompting(void**) {
    FakeDaemon daemon;
    daemon.reply(texted());
    daemon.error("RateLimited", {{"retryAfter", 60}});
    daemon.error("DeliveryFailed", {{"code", 30003}, {"status", 400}, {"message", "+15551234567"}});
    daemon.reply({{"user", "alice"}});
    ScriptedPam pam({"resend", "resend", "123456"});
    assert_int_equal(authenticate(pam, options_for(daemon)), PAM_SUCCESS);
    assert_true(pam.said("error: No more codes can be texted for this login; use the last one."));
    assert_true(pam.said("error: The new code could not be texted; use the last one."));
    assert_true(log_contains("Twilio error 30003, HTTP status 400"));
    assert_false(log_contains("1234567"));
}

void test_resend_of_expired_challenge(void**) {
    FakeDaemon daemon;
    daemon.reply(texted());
    daemon.error("NotFound", {{"twoFactorId", "tf-1"}});
    ScriptedPam pam({"resend", "123456"});
    assert_int_equal(authenticate(pam, options_for(daemon)), PAM_AUTH_ERR);
    assert_true(pam.said("error: The code has expired; please log in again to get a new one."));
}

void test_endless_resend_is_bounded(void**) {
    FakeDaemon daemon;
    daemon.reply(texted());
    for (int i = 0; i < 5; ++i) daemon.reply({{"mobilePhone", "***-***-5555"}});
    std::deque<std::string> answers(20, "resend");
    ScriptedPam pam(answers);
    assert_int_equal(authenticate(pam, options_for(daemon)), PAM_MAXTRIES);
    assert_int_equal(daemon.requests().size(), 6);  // Begin and 5 SendCode
    assert_int_equal(pam.prompts(), 8);             // 5 resends, then 3 tries
    assert_true(pam.said("error: No more codes can be texted for this login; use the last one."));
    assert_false(pam.said("A code is 6 digits."));
}

// Issue 11, voice: `call` where Begin offered it asks the daemon for a call.
void test_call(void**) {
    FakeDaemon daemon;
    json begun = texted();
    begun["voice"] = true;
    daemon.reply(begun);
    daemon.reply({{"mobilePhone", "***-***-5555"}, {"delivery", "Call"}});
    daemon.reply({{"user", "alice"}});
    Options options = options_for(daemon);
    options.tries = 1;  // a call is not a try
    ScriptedPam pam({"call", "123456"});
    assert_int_equal(authenticate(pam, options), PAM_SUCCESS);
    const auto requests = daemon.requests();
    assert_int_equal(requests.size(), 3);
    assert_string_equal(requests[1].method.c_str(), "io.twofactor.SendCode");
    assert_true(requests[1].parameters == json({{"twoFactorId", "tf-1"}, {"delivery", "Call"}}));
    assert_true(
        pam.said("info: A verification code was texted to ***-***-5555. Type resend to "
                 "get a new one, or call to hear it on the phone."));
    assert_true(pam.said("info: Calling ***-***-5555 now; the code is read twice."));
}

void test_call_refused_keeps_prompting(void**) {
    FakeDaemon daemon;
    json begun = texted();
    begun["voice"] = true;
    daemon.reply(begun);
    daemon.error("RateLimited", {{"retryAfter", 3600}});
    daemon.error("DeliveryFailed", {{"code", 21215}, {"status", 400}, {"message", "+15551234567"}});
    daemon.reply({{"mobilePhone", "***-***-5555"}, {"delivery", "Call"}, {"callMayBeLate", true}});
    daemon.reply({{"user", "alice"}});
    ScriptedPam pam({"call", "call", "call", "123456"});
    assert_int_equal(authenticate(pam, options_for(daemon)), PAM_SUCCESS);
    assert_true(
        pam.said("error: No call can be made now; try again in 60 minutes, or use the "
                 "last code."));
    assert_true(pam.said("error: The call could not be placed; use the last code."));
    assert_true(
        pam.said("info: The call to ***-***-5555 may be late. Type the code when you hear "
                 "it, or type call or resend to try again."));
    assert_true(log_contains("Twilio error 21215, HTTP status 400"));
    assert_false(log_contains("1234567"));
}

// Without voice, `call` asks the daemon nothing and costs no try, yet cannot go on for ever.
void test_call_without_voice_is_refused_and_bounded(void**) {
    FakeDaemon daemon;
    daemon.reply(texted());
    std::deque<std::string> answers(20, "call");
    ScriptedPam pam(answers);
    assert_int_equal(authenticate(pam, options_for(daemon)), PAM_MAXTRIES);
    assert_int_equal(daemon.requests().size(), 1);  // Begin only
    assert_int_equal(pam.prompts(), 8);             // 5 refusals, then 3 tries
    assert_true(pam.said("error: Calls are not enabled here."));
    assert_true(
        pam.said("info: A verification code was texted to ***-***-5555. Type resend to "
                 "get a new one."));
}

void test_authenticator_app_delivery(void**) {
    FakeDaemon daemon;
    daemon.reply(app_code());
    daemon.reply({{"user", "alice"}});
    ScriptedPam pam({"resend", "987654"});
    assert_int_equal(authenticate(pam, options_for(daemon)), PAM_SUCCESS);
    const auto requests = daemon.requests();
    assert_int_equal(requests.size(), 2);  // no SendCode: nothing can be texted
    assert_string_equal(requests[1].method.c_str(), "io.twofactor.Complete");
    assert_true(pam.said("info: Enter the 6-digit code from your authenticator app."));
    assert_true(pam.said("prompt: Authenticator app code: "));
    assert_true(pam.said("no code can be texted"));
    assert_false(pam.said("texted to"));
}

void test_not_enrolled(void**) {
    {
        FakeDaemon daemon;
        daemon.error("NotEnrolled", {{"user", "alice"}});
        ScriptedPam pam({});
        assert_int_equal(authenticate(pam, options_for(daemon)), PAM_USER_UNKNOWN);
        assert_true(pam.said("error: Your account is not set up for two-factor"));
    }
    {
        FakeDaemon daemon;
        daemon.error("NotEnrolled", {{"user", "alice"}});
        Options options = options_for(daemon);
        options.nullok = true;
        ScriptedPam pam({});
        assert_int_equal(authenticate(pam, options), PAM_IGNORE);
        assert_true(pam.transcript().empty());
    }
}

// Where NSS ignores case, "ALICE" is the account alice; the daemon is asked
// about alice, whose enrollment it holds, and nullok does not wave ALICE through.
void test_user_name_is_the_accounts_own(void**) {
    FakeDaemon daemon;
    daemon.reply(texted());
    daemon.reply({{"user", "alice"}});
    Options options = options_for(daemon);
    options.nullok = true;
    ScriptedPam pam({"123456"}, "ALICE");
    assert_int_equal(authenticate(pam, options), PAM_SUCCESS);
    const auto requests = daemon.requests();
    assert_int_equal(requests.size(), 2);
    assert_string_equal(requests[0].parameters["user"].get<std::string>().c_str(), "alice");
}

void test_unknown_user_is_user_unknown_even_with_nullok(void**) {
    FakeDaemon daemon;
    daemon.error("NotEnrolled", {{"user", "ghost"}});
    Options options = options_for(daemon);
    options.nullok = true;
    ScriptedPam pam({}, "ghost");
    assert_int_equal(authenticate(pam, options), PAM_USER_UNKNOWN);
    assert_true(daemon.requests().empty());
    assert_true(logged_at(LOG_NOTICE, "user=ghost"));
}

void test_locked(void**) {
    FakeDaemon daemon;
    daemon.error("Locked", {{"user", "alice"}, {"lockedUntil", 1893499200}});
    ScriptedPam pam({});
    assert_int_equal(authenticate(pam, options_for(daemon)), PAM_PERM_DENIED);
    assert_true(
        pam.said("error: Your account is locked after too many wrong codes until 2030-01-01 "
                 "12:00 UTC."));
}

void test_locked_at_complete(void**) {
    FakeDaemon daemon;
    daemon.reply(texted());
    daemon.error("Locked", {{"user", "alice"}, {"lockedUntil", 1893499200}});
    ScriptedPam pam({"123456"});
    assert_int_equal(authenticate(pam, options_for(daemon)), PAM_PERM_DENIED);
}

// Issue 11, no dead end: Begin kept the challenge although the text did not go out; the user
// reads why and types the app's code or a recovery code at a prompt that says so.
json not_texted(const char* error, json parameters) {
    json begun = texted();
    begun["textNotSent"] = {{"error", std::string("io.twofactor.") + error},
                            {"parameters", std::move(parameters)}};
    return begun;
}

void test_text_not_sent_asks_for_another_code(void**) {
    FakeDaemon daemon;
    daemon.reply(not_texted("DeliveryFailed", {{"code", 21211},
                                               {"status", 400},
                                               {"message",
                                                "The 'To' number +15005550001 is "
                                                "not a valid phone number."}}));
    daemon.error("InvalidCode", {{"attemptsLeft", 4}});
    daemon.reply({{"user", "alice"}, {"recoveryCodesLeft", 9}});
    ScriptedPam pam({"000000", "ABCDE-FGHJK"});
    assert_int_equal(authenticate(pam, options_for(daemon)), PAM_SUCCESS);
    assert_true(
        pam.said("error: The code could not be texted to ***-***-5555. Type the code "
                 "from your authenticator app or a recovery code instead."));
    assert_true(pam.said("prompt: Authenticator app or recovery code: "));
    assert_true(pam.said("error: That code is wrong; 2 tries left."));
    assert_true(logged_at(LOG_WARNING,
                          "Begin: the code was not texted: Twilio error 21211, HTTP status 400"));
    assert_false(log_contains("5005550001"));
}

void test_opted_out_number_says_start(void**) {
    FakeDaemon daemon;
    daemon.reply(not_texted("DeliveryFailed", {{"code", 21610}, {"status", 400}}));
    daemon.reply({{"user", "alice"}});
    ScriptedPam pam({"123456"});
    // Under PAM_SILENT too: an error message, not an info line.
    assert_int_equal(authenticate(pam, options_for(daemon), PAM_SILENT), PAM_SUCCESS);
    assert_true(
        pam.said("error: The code could not be texted: ***-***-5555 has opted out of "
                 "text messages. Reply START to the number the codes come from to "
                 "receive texts again. Type the code from your authenticator app or a "
                 "recovery code instead."));
}

void test_text_held_back_by_the_limits(void**) {
    FakeDaemon daemon;
    daemon.reply(not_texted("RateLimited", {{"retryAfter", 600}}));
    daemon.error("RateLimited", {{"retryAfter", 590}});
    daemon.reply({{"user", "alice"}});
    ScriptedPam pam({"resend", "123456"});
    assert_int_equal(authenticate(pam, options_for(daemon)), PAM_SUCCESS);
    assert_true(
        pam.said("error: Too many codes were texted to ***-***-5555, so none was sent "
                 "now (texts resume in 10 minutes). Type the code from your "
                 "authenticator app or a recovery code instead."));
    assert_true(pam.said("(texts resume in 10 minutes)"));
    assert_true(logged_at(LOG_WARNING, "SendCode: the code was not texted: too many texts"));
}

// A resend that goes out after all: the prompt asks for the texted code again.
void test_resend_after_text_not_sent(void**) {
    FakeDaemon daemon;
    daemon.reply(not_texted("DeliveryFailed", {{"code", 20503}, {"status", 503}}));
    daemon.reply({{"mobilePhone", "***-***-5555"}});
    daemon.reply({{"user", "alice"}});
    ScriptedPam pam({"resend", "123456"});
    assert_int_equal(authenticate(pam, options_for(daemon)), PAM_SUCCESS);
    assert_true(pam.said("info: A new code was texted to ***-***-5555."));
    assert_true(pam.said("prompt: Verification code: "));
}

// Twilio Verify could not check a code: a try is spent, and the login goes on.
void test_code_verify_could_not_check(void**) {
    FakeDaemon daemon;
    daemon.reply(texted());
    daemon.error("DeliveryFailed", {{"code", 20503}, {"status", 503}});
    daemon.reply({{"user", "alice"}});
    Options options = options_for(daemon);
    options.tries = 2;
    ScriptedPam pam({"123456", "654321"});
    assert_int_equal(authenticate(pam, options), PAM_SUCCESS);
    assert_true(
        pam.said("error: That code could not be checked with Twilio; type the code "
                 "from your authenticator app or a recovery code."));
}

// An older daemon refused the login at Begin when the text failed.
void test_delivery_failed(void**) {
    FakeDaemon daemon;
    daemon.error("DeliveryFailed", {{"code", 21211},
                                    {"status", 400},
                                    {"message",
                                     "The 'To' number +15005550001 is "
                                     "not a valid phone number."}});
    ScriptedPam pam({"123456"});
    assert_int_equal(authenticate(pam, options_for(daemon)), PAM_AUTHINFO_UNAVAIL);
    assert_int_equal(pam.prompts(), 0);
    assert_true(pam.said("error: The code could not be texted to you"));
    assert_true(logged_at(LOG_ERR, "Begin: Twilio error 21211, HTTP status 400"));
    assert_false(log_contains("5005550001"));
}

void test_other_begin_errors(void**) {
    struct Case {
        const char* error;
        json parameters;
        int code;
        const char* sentence;
    };
    const Case cases[] = {
        {"RateLimited", {{"retryAfter", 600}}, PAM_AUTH_ERR, "please try again in 10 minutes."},
        {"PermissionDenied", json::object(), PAM_PERM_DENIED, "This program may not check"},
        {"InternalError", json::object(), PAM_AUTHINFO_UNAVAIL, "The two-factor service failed"},
        {"InvalidParameter",
         {{"field", "user"}, {"reason", "bad"}},
         PAM_SERVICE_ERR,
         "internal error"},
        {"SomethingNew", json::object(), PAM_SERVICE_ERR, "internal error"},
    };
    for (const auto& c : cases) {
        FakeDaemon daemon;
        daemon.error(c.error, c.parameters);
        ScriptedPam pam({});
        assert_int_equal(authenticate(pam, options_for(daemon)), c.code);
        assert_true(pam.said(c.sentence));
    }
    assert_true(log_contains("unexpected error io.twofactor.SomethingNew"));
}

void test_malformed_begin_replies(void**) {
    const json replies[] = {
        {{"delivery", "TextMessage"}},                          // no twoFactorId
        {{"twoFactorId", "x"}, {"delivery", "CarrierPigeon"}},  // unknown delivery
        {{"twoFactorId", 7}, {"delivery", "None"}},             // wrong type
    };
    for (const auto& reply : replies) {
        FakeDaemon daemon;
        daemon.reply(reply);
        ScriptedPam pam({"123456"});
        assert_int_equal(authenticate(pam, options_for(daemon)), PAM_SERVICE_ERR);
        assert_int_equal(pam.prompts(), 0);
    }
}

void test_expired_at_complete(void**) {
    FakeDaemon daemon;
    daemon.reply(texted());
    daemon.error("NotFound", {{"twoFactorId", "tf-1"}});
    ScriptedPam pam({"123456"});
    assert_int_equal(authenticate(pam, options_for(daemon)), PAM_AUTH_ERR);
    assert_true(pam.said("error: The code has expired"));
}

void test_complete_for_another_user_is_refused(void**) {
    FakeDaemon daemon;
    daemon.reply(texted());
    daemon.reply({{"user", "mallory"}});
    ScriptedPam pam({"123456"});
    assert_int_equal(authenticate(pam, options_for(daemon)), PAM_SERVICE_ERR);
}

void test_silent_daemon_both_failmodes(void**) {
    for (FailMode mode : {FailMode::Secure, FailMode::Safe}) {
        FakeDaemon daemon;
        daemon.silent();
        Options options = options_for(daemon);
        options.timeout = std::chrono::seconds(1);
        options.failmode = mode;
        ScriptedPam pam({"123456"});
        const auto start = std::chrono::steady_clock::now();
        const int code = authenticate(pam, options);
        const auto took = std::chrono::steady_clock::now() - start;
        assert_true(took >= std::chrono::milliseconds(900));
        assert_true(took < std::chrono::seconds(5));
        assert_int_equal(pam.prompts(), 0);
        if (mode == FailMode::Secure) {
            assert_int_equal(code, PAM_AUTHINFO_UNAVAIL);
            assert_true(pam.said("error: The two-factor service is not answering, so you cannot"));
            assert_true(logged_at(LOG_ERR, "daemon unreachable, failmode=secure"));
        } else {
            assert_int_equal(code, PAM_SUCCESS);
            assert_true(pam.said("you are let in without a code."));
            assert_true(logged_at(LOG_ERR, "letting the user in because failmode=safe"));
        }
    }
}

void test_no_daemon_at_all(void**) {
    Options options;
    options.socket = "/nonexistent/twofactord/socket";
    ScriptedPam pam({"123456"});
    assert_int_equal(authenticate(pam, options), PAM_AUTHINFO_UNAVAIL);
    assert_true(log_contains("cannot connect to /nonexistent/twofactord/socket"));
    options.failmode = FailMode::Safe;
    ScriptedPam again({"123456"});
    assert_int_equal(authenticate(again, options), PAM_SUCCESS);
}

void test_hang_up_mid_login(void**) {
    FakeDaemon daemon;
    daemon.reply(texted());
    daemon.hang_up();
    ScriptedPam pam({"123456"});
    assert_int_equal(authenticate(pam, options_for(daemon)), PAM_AUTHINFO_UNAVAIL);
    assert_true(log_contains("closed the connection"));
}

// Once a challenge exists, failmode=safe no longer applies; a daemon that
// goes away while the user sits at the prompt is a refusal, whatever was typed.
void test_daemon_gone_after_begin_is_a_refusal_even_with_failmode_safe(void**) {
    // The daemon stops between Begin and Complete: the socket is gone when the code is typed.
    auto daemon = std::make_unique<FakeDaemon>();
    daemon->reply(texted());
    Options options = options_for(*daemon);
    options.failmode = FailMode::Safe;
    ScriptedPam pam({"123456"});
    pam.on_prompt = [&daemon] { daemon.reset(); };
    assert_int_equal(authenticate(pam, options), PAM_AUTHINFO_UNAVAIL);
    assert_false(log_contains("letting the user in because failmode=safe"));
    assert_true(logged_at(LOG_ERR, "daemon unreachable, failmode=secure"));
}

// Twilio did not confirm the text: the user reads that it may be late, and the login goes on.
void test_text_that_may_be_late(void**) {
    FakeDaemon daemon;
    json begun = texted();
    begun["textMayBeLate"] = true;
    daemon.reply(begun);
    daemon.reply({{"user", "alice"}});
    ScriptedPam pam({"123456"});
    assert_int_equal(authenticate(pam, options_for(daemon)), PAM_SUCCESS);
    assert_true(
        pam.said("info: The code texted to ***-***-5555 may be late. Type it when it "
                 "comes, or type resend to get another; the code from your authenticator "
                 "app or a recovery code works too."));
}

void test_conversation_failures(void**) {
    {
        FakeDaemon daemon;
        daemon.reply(texted());
        ScriptedPam pam({});  // no answer to give
        assert_int_equal(authenticate(pam, options_for(daemon)), PAM_CONV_ERR);
    }
    {
        FakeDaemon daemon;
        daemon.reply(texted());
        ScriptedPam pam({"123456"});
        pam.answer_null = true;
        assert_int_equal(authenticate(pam, options_for(daemon)), PAM_CONV_ERR);
    }
}

void test_silent_flag_drops_info_only(void**) {
    FakeDaemon daemon;
    daemon.reply(texted());
    daemon.error("InvalidCode", {{"attemptsLeft", 4}});
    daemon.reply({{"user", "alice"}});
    ScriptedPam pam({"111111", "123456"});
    assert_int_equal(authenticate(pam, options_for(daemon), PAM_SILENT), PAM_SUCCESS);
    for (const auto& line : pam.transcript()) assert_true(line.rfind("info: ", 0) != 0);
    assert_true(pam.said("error: That code is wrong"));
    // The dropped info line said where the code went: the prompt says it instead.
    assert_true(pam.said("prompt: Verification code (texted to ***-***-5555): "));
}

// With voice, the prompt that stands for the dropped info line offers `call` too.
void test_silent_prompt_offers_call_with_voice(void**) {
    FakeDaemon daemon;
    json begun = texted();
    begun["voice"] = true;
    daemon.reply(begun);
    daemon.reply({{"user", "alice"}});
    ScriptedPam pam({"123456"});
    assert_int_equal(authenticate(pam, options_for(daemon), PAM_SILENT), PAM_SUCCESS);
    assert_true(pam.said("prompt: Verification code (texted to ***-***-5555; or type call): "));
}

void test_echo_option(void**) {
    FakeDaemon daemon;
    daemon.reply(texted());
    daemon.reply({{"user", "alice"}});
    Options options = options_for(daemon);
    options.echo = true;
    ScriptedPam pam({"123456"});
    assert_int_equal(authenticate(pam, options), PAM_SUCCESS);
    assert_true(pam.said("prompt-echo: Verification code: "));
}

void test_without_rhost_nothing_is_invented(void**) {
    FakeDaemon daemon;
    daemon.reply(app_code());
    daemon.reply({{"user", "bob"}});
    ScriptedPam pam({"123456"}, "bob");
    twofactor::test::clear_captured_log();
    assert_int_equal(twofactor::pam::authenticate(pam.handle(), 0, options_for(daemon)),
                     PAM_SUCCESS);
    const auto requests = daemon.requests();
    assert_true(requests[0].parameters ==
                json({{"user", "bob"}, {"service", "twofactor-unit"}, {"timeout", 2}}));
    assert_false(requests[1].parameters.contains("ipAddress"));
}

void test_long_host_names_are_cut_for_the_daemon(void**) {
    FakeDaemon daemon;
    daemon.reply(app_code());
    daemon.reply({{"user", "alice"}});
    ScriptedPam pam({"123456"});
    const std::string host(300, 'h');
    pam.set_item(PAM_RHOST, host.c_str());
    twofactor::test::clear_captured_log();
    assert_int_equal(twofactor::pam::authenticate(pam.handle(), 0, options_for(daemon)),
                     PAM_SUCCESS);
    const auto requests = daemon.requests();
    assert_string_equal(requests[0].parameters["ipAddress"].get<std::string>().c_str(),
                        std::string(255, 'h').c_str());
    assert_string_equal(requests[1].parameters["ipAddress"].get<std::string>().c_str(),
                        std::string(255, 'h').c_str());
}

void test_log_lines_cannot_be_forged(void**) {
    FakeDaemon daemon;
    daemon.reply(app_code());
    daemon.reply({{"user", "alice"}});
    ScriptedPam pam({"123456"});
    pam.set_item(PAM_RHOST, "evil\nFAKE LINE");
    twofactor::test::clear_captured_log();
    assert_int_equal(twofactor::pam::authenticate(pam.handle(), 0, options_for(daemon)),
                     PAM_SUCCESS);
    assert_true(log_contains("rhost=evil?FAKE LINE"));
    assert_false(log_contains("\n"));
}

}  // namespace

int main() {
    // The scripted daemon runs as this process; the client accepts only root as its peer.
    if (geteuid() != 0) {
        std::printf("unit_pam_flow needs root (the client accepts only root's socket); skipped\n");
        return 0;
    }
    setenv("TZ", "UTC", 1);
    tzset();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_right_code),
        cmocka_unit_test(test_spaces_around_the_code_are_dropped),
        cmocka_unit_test(test_wrong_then_right),
        cmocka_unit_test(test_too_many_tries),
        cmocka_unit_test(test_daemon_out_of_attempts_ends_early),
        cmocka_unit_test(test_not_six_digits_counts_but_is_not_sent),
        cmocka_unit_test(test_resend),
        cmocka_unit_test(test_resend_refused_keeps_prompting),
        cmocka_unit_test(test_resend_of_expired_challenge),
        cmocka_unit_test(test_endless_resend_is_bounded),
        cmocka_unit_test(test_call),
        cmocka_unit_test(test_call_refused_keeps_prompting),
        cmocka_unit_test(test_call_without_voice_is_refused_and_bounded),
        cmocka_unit_test(test_authenticator_app_delivery),
        cmocka_unit_test(test_not_enrolled),
        cmocka_unit_test(test_user_name_is_the_accounts_own),
        cmocka_unit_test(test_unknown_user_is_user_unknown_even_with_nullok),
        cmocka_unit_test(test_locked),
        cmocka_unit_test(test_locked_at_complete),
        cmocka_unit_test(test_text_not_sent_asks_for_another_code),
        cmocka_unit_test(test_opted_out_number_says_start),
        cmocka_unit_test(test_text_held_back_by_the_limits),
        cmocka_unit_test(test_resend_after_text_not_sent),
        cmocka_unit_test(test_code_verify_could_not_check),
        cmocka_unit_test(test_delivery_failed),
        cmocka_unit_test(test_other_begin_errors),
        cmocka_unit_test(test_malformed_begin_replies),
        cmocka_unit_test(test_expired_at_complete),
        cmocka_unit_test(test_complete_for_another_user_is_refused),
        cmocka_unit_test(test_silent_daemon_both_failmodes),
        cmocka_unit_test(test_no_daemon_at_all),
        cmocka_unit_test(test_hang_up_mid_login),
        cmocka_unit_test(test_daemon_gone_after_begin_is_a_refusal_even_with_failmode_safe),
        cmocka_unit_test(test_text_that_may_be_late),
        cmocka_unit_test(test_conversation_failures),
        cmocka_unit_test(test_silent_flag_drops_info_only),
        cmocka_unit_test(test_silent_prompt_offers_call_with_voice),
        cmocka_unit_test(test_echo_option),
        cmocka_unit_test(test_without_rhost_nothing_is_invented),
        cmocka_unit_test(test_long_host_names_are_cut_for_the_daemon),
        cmocka_unit_test(test_log_lines_cannot_be_forged),
        cmocka_unit_test(test_trusted_login_asks_nothing),
        cmocka_unit_test(test_unasked_trust_is_refused),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
