// SPDX-License-Identifier: BSD-2-Clause
// The service's rules in one process, as SSSD tests its responder: a real Service over a temporary
// SQLite store, a fake sender that keeps each text until the test delivers or refuses it, and a
// clock the test moves. The wire and the processes are the integration tests' business.
#include <algorithm>
#include <array>
#include <cctype>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/protocol.h"
#include "common/totp.h"
#include "daemon/config/settings.h"
#include "daemon/keys/cipher.h"
#include "daemon/service/messenger.h"
#include "daemon/service/service.h"
#include "daemon/store/sqlite/sqlite_store.h"
#include "daemon/store/store.h"
#include "tests/unit/test_support.h"  // last: brings in cmocka

using namespace twofactor;
using protocol::json;
namespace method = protocol::method;
namespace err = protocol::error;

namespace {

const std::string kSecret = "8MJJfCY4ERBtotvenSc3";
const std::string kPhone = "+15555550123";
constexpr std::int64_t kStart = 1'800'000'010;  // 10 s into a 30 s step
constexpr uid_t kAliceUid = 1001;

// Holds every text until the test says how it fared, as Twilio's answer arrives later.
class FakeMessenger : public Messenger {
public:
    struct Text {
        std::string to;
        std::string body;  // a call: its TwiML
        TextOptions options;
        Callback done;
        bool call = false;
    };

    void send(const std::string& to, SecureString body, TextOptions options,
              Callback done) override {
        sent.push_back(Text{to, std::string(body.view()), options, std::move(done)});
        pending.push_back(sent.size() - 1);
    }

    void call(const std::string& to, SecureString twiml, TextOptions options,
              Callback done) override {
        sent.push_back(Text{to, std::string(twiml.view()), options, std::move(done), true});
        pending.push_back(sent.size() - 1);
    }

    // Verify is tested against the endpoint (faults_twilio_verify); the service never calls it
    // without [twilio] verify_service_sid. With `verify`, a verification is held as a text
    // whose body says what was asked ("verify:sms", "check:CODE").
    void start_verification(const std::string& to, const std::string& channel, TextOptions options,
                            Callback done) override {
        if (!verify) fail_msg("start_verification without verify_service_sid");
        hold(to, "verify:" + channel, options, std::move(done));
    }
    void check_verification(const std::string& to, SecureString code, Callback done) override {
        if (!verify) fail_msg("check_verification without verify_service_sid");
        hold(to, "check:" + std::string(code.view()), TextOptions{}, std::move(done));
    }
    void hold(const std::string& to, std::string body, TextOptions options, Callback done) {
        sent.push_back(Text{to, std::move(body), options, std::move(done)});
        pending.push_back(sent.size() - 1);
    }
    bool verify = false;

    // Answers the oldest text not answered yet.
    void answer(bool accepted) {
        SmsResult result;
        result.accepted = accepted;
        result.http_status = accepted ? 201 : 400;
        result.twilio_code = accepted ? 0 : 21211;
        result.message = accepted ? "" : "The 'To' number is not a valid phone number.";
        answer(result);
    }

    void answer(const SmsResult& result) {
        assert_false(pending.empty());
        Text& text = sent[pending.front()];
        pending.pop_front();
        text.done(result);
    }

    // The code in the last text sent (the message ends with it).
    std::string last_code() const {
        assert_false(sent.empty());
        const std::string& body = sent.back().body;
        return body.substr(body.size() - 6);
    }

    std::deque<Text> sent;
    std::deque<std::size_t> pending;
};

std::array<unsigned char, kKeyBytes> test_key() {
    std::array<unsigned char, kKeyBytes> key{};
    for (std::size_t i = 0; i < key.size(); ++i) key[i] = static_cast<unsigned char>(7 + i);
    return key;
}

struct Fixture {
    test::TempDir dir;
    Cipher cipher{test_key()};
    Settings settings;
    std::unique_ptr<Store> store;
    FakeMessenger messenger;
    std::int64_t now = kStart;
    std::unique_ptr<Service> service;

    Fixture() {
        settings.sms.message = "Your code is {code}";
        // Setup texts go only to enrolled country codes and this one (sms_budget.cpp).
        settings.sms.default_country_code = "1";
        store = std::make_unique<SqliteStore>(dir.file("twofactord.db"), cipher);
        start_service();
    }

    // A new Service on the same store: what a restarted daemon sees.
    void start_service() {
        service = std::make_unique<Service>(settings, *store, messenger, [this] { return now; });
    }

    // Calls a method; when the service waits for the sender, the pending text is answered
    // `accepted` first. Returns the one message the service responded with.
    json call(const Caller& caller, const char* name, json parameters, bool accepted = true) {
        std::optional<json> response;
        service->handle(caller, protocol::Request{name, std::move(parameters)},
                        [&response](json message) {
                            assert_false(response.has_value());  // exactly once
                            response = std::move(message);
                        });
        if (!response && !messenger.pending.empty()) messenger.answer(accepted);
        assert_true(response.has_value());
        return *response;
    }

    std::string begin(const std::string& user = "alice") {
        json reply = call(root(), method::Begin, {{"user", user}, {"ipAddress", "203.0.113.9"}});
        assert_false(reply.contains("error"));
        return reply["parameters"]["twoFactorId"].get<std::string>();
    }

    json complete(const std::string& id, const std::string& code) {
        return call(root(), method::Complete, {{"twoFactorId", id}, {"code", code}});
    }

    json login_with_texted_code() {
        std::string id = begin();
        return complete(id, messenger.last_code());
    }

    // Enables alice with texted codes, through the service, with the app code of this step.
    void enroll_alice() {
        json reply = call(root(), method::Enable,
                          {{"user", "alice"},
                           {"secret", kSecret},
                           {"code", app_code(0)},
                           {"mobilePhone", kPhone}});
        assert_false(reply.contains("error"));
    }

    // The code an authenticator app shows `offset` steps from now.
    std::string app_code(int offset) const {
        return totp_code(kSecret, totp_step(now) + static_cast<std::uint64_t>(offset));
    }

    static Caller root() { return Caller{0, ""}; }
    static Caller alice() { return Caller{kAliceUid, "alice"}; }
    static Caller bob() { return Caller{1002, "bob"}; }
};

Fixture& fixture(void** state) {
    return *static_cast<Fixture*>(*state);
}

int setup(void** state) {
    *state = new Fixture();
    return 0;
}

int teardown(void** state) {
    delete static_cast<Fixture*>(*state);
    return 0;
}

std::string error_of(const json& message) {
    return message.contains("error") ? message["error"].get<std::string>() : "";
}

void assert_error(const json& message, const char* expected) {
    if (error_of(message) != expected)
        fail_msg("expected %s, got %s", expected, message.dump().c_str());
}

void assert_ok(const json& message) {
    if (message.contains("error")) fail_msg("expected a reply, got %s", message.dump().c_str());
}

// --- used steps ---------------------------------------------------------------------------------

void texted_code_completes_once(void** state) {
    Fixture& f = fixture(state);
    f.enroll_alice();
    std::string id = f.begin();
    std::string code = f.messenger.last_code();
    assert_string_equal(f.messenger.sent.back().to.c_str(), kPhone.c_str());
    assert_ok(f.complete(id, code));
    // The challenge is spent, and the step is spent for every other challenge too.
    assert_error(f.complete(id, code), err::NotFound);
    std::string again = f.begin();
    assert_error(f.complete(again, code), err::InvalidCode);
}

void the_step_that_enabled_is_used(void** state) {
    Fixture& f = fixture(state);
    std::string code = f.app_code(0);
    f.enroll_alice();
    assert_error(f.complete(f.begin(), code), err::InvalidCode);
}

void app_codes_are_single_use(void** state) {
    Fixture& f = fixture(state);
    f.enroll_alice();
    f.now += 30;  // the enabling step is behind us
    assert_ok(f.complete(f.begin(), f.app_code(1)));
    assert_error(f.complete(f.begin(), f.app_code(1)), err::InvalidCode);
    assert_ok(f.complete(f.begin(), f.app_code(0)));
}

void close_logins_get_distinct_working_codes(void** state) {
    Fixture& f = fixture(state);
    f.enroll_alice();
    // ssh, then sudo ten seconds later, then su: each texted a step nobody holds or used.
    std::string ssh = f.begin();
    std::string ssh_code = f.messenger.last_code();
    f.now += 10;
    std::string sudo = f.begin();
    std::string sudo_code = f.messenger.last_code();
    std::string su = f.begin();
    std::string su_code = f.messenger.last_code();
    assert_string_not_equal(ssh_code.c_str(), sudo_code.c_str());
    assert_string_not_equal(sudo_code.c_str(), su_code.c_str());
    assert_string_not_equal(ssh_code.c_str(), su_code.c_str());
    assert_ok(f.complete(sudo, sudo_code));
    assert_ok(f.complete(ssh, ssh_code));
    // A texted code lives as long as its challenge, not one step.
    f.now += 200;
    assert_ok(f.complete(su, su_code));
}

// --- lockout ------------------------------------------------------------------------------------

void wrong_codes_count_down_then_kill_the_challenge(void** state) {
    Fixture& f = fixture(state);
    f.enroll_alice();
    std::string id = f.begin();
    for (int left = f.settings.login.tries - 1; left > 0; --left) {
        json answer = f.complete(id, "000000");
        assert_error(answer, err::InvalidCode);
        assert_int_equal(answer["parameters"]["attemptsLeft"].get<int>(), left);
    }
    assert_error(f.complete(id, "000000"), err::InvalidCode);
    assert_error(f.complete(id, f.messenger.last_code()), err::NotFound);
}

void repeated_failures_lock_the_account(void** state) {
    Fixture& f = fixture(state);
    f.settings.login.lockout_failures = 3;
    f.enroll_alice();
    std::string id = f.begin();
    std::string good = f.messenger.last_code();
    assert_error(f.complete(id, "000000"), err::InvalidCode);
    assert_error(f.complete(f.begin(), "000000"), err::InvalidCode);  // counted across challenges
    json locked = f.complete(id, "000000");
    assert_error(locked, err::Locked);
    const std::int64_t until = f.now + f.settings.login.lockout_duration;
    assert_int_equal(locked["parameters"]["lockedUntil"].get<std::int64_t>(), until);
    // Locked: the right code does not help, no new challenge starts, nothing is texted.
    assert_error(f.complete(id, good), err::NotFound);
    const std::size_t texts = f.messenger.sent.size();
    assert_error(f.call(Fixture::root(), method::Begin, {{"user", "alice"}}), err::Locked);
    assert_int_equal(f.messenger.sent.size(), texts);
    // The lock survives a restart and ends by itself.
    f.start_service();
    json status = f.call(Fixture::root(), method::Status, {{"user", "alice"}});
    assert_true(status["parameters"]["locked"].get<bool>());
    f.now = until;
    assert_ok(f.login_with_texted_code());
}

void failures_outside_the_window_start_over(void** state) {
    Fixture& f = fixture(state);
    f.settings.login.lockout_failures = 2;
    f.enroll_alice();
    assert_error(f.complete(f.begin(), "000000"), err::InvalidCode);
    f.now += f.settings.login.lockout_window;
    assert_error(f.complete(f.begin(), "000000"), err::InvalidCode);
    assert_error(f.complete(f.begin(), "000000"), err::Locked);
}

void success_clears_failures(void** state) {
    Fixture& f = fixture(state);
    f.settings.login.lockout_failures = 2;
    f.enroll_alice();
    assert_error(f.complete(f.begin(), "000000"), err::InvalidCode);
    assert_ok(f.login_with_texted_code());
    assert_error(f.complete(f.begin(), "000000"), err::InvalidCode);  // one failure, not two
}

void root_unlocks(void** state) {
    Fixture& f = fixture(state);
    f.settings.login.lockout_failures = 1;
    f.enroll_alice();
    assert_error(f.complete(f.begin(), "000000"), err::Locked);
    assert_error(f.call(Fixture::alice(), method::Unlock, {{"user", "alice"}}),
                 err::PermissionDenied);
    assert_error(f.call(Fixture::root(), method::Begin, {{"user", "alice"}}), err::Locked);
    assert_ok(f.call(Fixture::root(), method::Unlock, {{"user", "alice"}}));
    assert_ok(f.login_with_texted_code());
}

// --- text limits and resends --------------------------------------------------------------------

void texts_per_user_are_limited(void** state) {
    Fixture& f = fixture(state);
    f.settings.sms.user_texts_per_hour = 3;
    f.start_service();  // the limiters take their sizes when the service starts
    f.enroll_alice();
    for (int i = 0; i < 3; ++i) f.begin();
    const std::size_t texts = f.messenger.sent.size();
    // Issue 11, no dead end: the limit holds the text back, not the login.
    json held = f.call(Fixture::root(), method::Begin, {{"user", "alice"}});
    assert_ok(held);
    const json& limited = held["parameters"]["textNotSent"];
    assert_error(limited, err::RateLimited);
    const std::int64_t retry_after = limited["parameters"]["retryAfter"].get<std::int64_t>();
    assert_true(retry_after > 0 && retry_after <= 3600);
    assert_int_equal(f.messenger.sent.size(), texts);
    const std::string id = held["parameters"]["twoFactorId"].get<std::string>();
    assert_error(f.call(Fixture::alice(), method::SendCode, {{"twoFactorId", id}}),
                 err::RateLimited);
    assert_int_equal(f.messenger.sent.size(), texts);
    assert_ok(f.complete(id, f.app_code(1)));
    f.now += retry_after;
    f.begin();
    assert_int_equal(f.messenger.sent.size(), texts + 1);
}

void texts_to_one_number_are_limited(void** state) {
    Fixture& f = fixture(state);
    f.settings.sms.user_texts_per_hour = 2;
    f.start_service();
    const json setup = {{"mobilePhone", kPhone}, {"secret", kSecret}};
    assert_ok(f.call(Fixture::alice(), method::SendCode, setup));
    assert_ok(f.call(Fixture::alice(), method::SendCode, setup));
    // Nobody's phone is flooded: bob, texting for the first time, may not text that number too,
    // but another one.
    json refused = f.call(Fixture::bob(), method::SendCode, setup);
    assert_error(refused, err::RateLimited);
    assert_true(refused["parameters"]["retryAfter"].get<std::int64_t>() > 0);
    assert_ok(f.call(Fixture::bob(), method::SendCode,
                     {{"mobilePhone", "+15555550199"}, {"secret", kSecret}}));
}

void texts_per_minute_are_limited_for_everyone(void** state) {
    Fixture& f = fixture(state);
    f.settings.sms.texts_per_minute = 2;
    f.start_service();
    f.enroll_alice();
    f.begin();
    assert_ok(f.call(Fixture::root(), method::SendCode,
                     {{"mobilePhone", "+15555550199"}, {"secret", kSecret}}));
    const std::size_t texts = f.messenger.sent.size();
    json held = f.call(Fixture::root(), method::Begin, {{"user", "alice"}});
    assert_error(held["parameters"]["textNotSent"], err::RateLimited);
    assert_int_equal(f.messenger.sent.size(), texts);
    f.now += 60;
    f.begin();
}

// The log-flood limit protects the daemon, not the bill: it still refuses the login.
void too_many_logins_begun_are_refused(void** state) {
    Fixture& f = fixture(state);
    f.settings.login.challenges_per_minute = 2;
    f.start_service();
    f.enroll_alice();
    f.begin();
    f.begin();
    const std::size_t texts = f.messenger.sent.size();
    json refused = f.call(Fixture::root(), method::Begin, {{"user", "alice"}});
    assert_error(refused, err::RateLimited);
    assert_false(refused["parameters"].contains("twoFactorId"));
    assert_int_equal(f.messenger.sent.size(), texts);
}

void resends_send_the_same_code_a_few_times(void** state) {
    Fixture& f = fixture(state);
    f.enroll_alice();
    std::string id = f.begin();
    std::string code = f.messenger.last_code();
    for (int i = 0; i < f.settings.login.resends; ++i) {
        json reply = f.call(Fixture::alice(), method::SendCode, {{"twoFactorId", id}});
        assert_ok(reply);
        assert_string_equal(reply["parameters"]["mobilePhone"].get<std::string>().c_str(),
                            "***-***-0123");
        assert_string_equal(f.messenger.last_code().c_str(), code.c_str());
    }
    const std::size_t texts = f.messenger.sent.size();
    assert_error(f.call(Fixture::alice(), method::SendCode, {{"twoFactorId", id}}),
                 err::RateLimited);
    assert_int_equal(f.messenger.sent.size(), texts);
    assert_ok(f.complete(id, code));
    assert_error(f.call(Fixture::alice(), method::SendCode, {{"twoFactorId", id}}), err::NotFound);
}

// Issue 11, voice: `call` reads the code the challenge accepts, as a text counts.
void a_call_reads_the_challenge_code_and_counts_as_a_resend(void** state) {
    Fixture& f = fixture(state);
    f.settings.voice.enabled = true;
    f.settings.twilio.from = "+15005550006";
    f.start_service();
    f.enroll_alice();
    json begun = f.call(Fixture::root(), method::Begin, {{"user", "alice"}});
    assert_ok(begun);
    assert_true(begun["parameters"]["voice"].get<bool>());
    const std::string id = begun["parameters"]["twoFactorId"].get<std::string>();
    const std::string code = f.messenger.last_code();
    const std::string spoken = {code[0], ',', ' ', code[1], ',', ' ', code[2], ',', ' ',
                                code[3], ',', ' ', code[4], ',', ' ', code[5], '.'};
    for (int i = 0; i < f.settings.login.resends; ++i) {
        json reply =
            f.call(Fixture::alice(), method::SendCode, {{"twoFactorId", id}, {"delivery", "Call"}});
        assert_ok(reply);
        assert_string_equal(reply["parameters"]["delivery"].get<std::string>().c_str(), "Call");
        const auto& placed = f.messenger.sent.back();
        assert_true(placed.call);
        assert_string_equal(placed.to.c_str(), kPhone.c_str());
        const auto first = placed.body.find(spoken);
        assert_true(first != std::string::npos);
        assert_true(placed.body.find(spoken, first + 1) != std::string::npos);
    }
    // The challenge's resends are spent by the calls: neither a text nor a call is left.
    const std::size_t sent = f.messenger.sent.size();
    assert_error(
        f.call(Fixture::alice(), method::SendCode, {{"twoFactorId", id}, {"delivery", "Call"}}),
        err::RateLimited);
    assert_error(f.call(Fixture::alice(), method::SendCode, {{"twoFactorId", id}}),
                 err::RateLimited);
    assert_int_equal(f.messenger.sent.size(), sent);
    assert_ok(f.complete(id, code));
}

void a_call_without_voice_is_refused_and_costs_nothing(void** state) {
    Fixture& f = fixture(state);
    f.enroll_alice();
    json begun = f.call(Fixture::root(), method::Begin, {{"user", "alice"}});
    assert_false(begun["parameters"].contains("voice"));
    const std::string id = begun["parameters"]["twoFactorId"].get<std::string>();
    const std::string code = f.messenger.last_code();
    const std::size_t sent = f.messenger.sent.size();
    json refused =
        f.call(Fixture::alice(), method::SendCode, {{"twoFactorId", id}, {"delivery", "Call"}});
    assert_error(refused, err::InvalidParameter);
    assert_string_equal(refused["parameters"]["reason"].get<std::string>().c_str(),
                        "calls are not enabled here");
    assert_error(
        f.call(Fixture::alice(), method::SendCode, {{"twoFactorId", id}, {"delivery", "Pigeon"}}),
        err::InvalidParameter);
    assert_int_equal(f.messenger.sent.size(), sent);
    for (int i = 0; i < f.settings.login.resends; ++i)
        assert_ok(f.call(Fixture::alice(), method::SendCode, {{"twoFactorId", id}}));
    assert_ok(f.complete(id, code));
}

// Issue 11, no dead end: a text Twilio refused (a bad number, an opt-out, an outage after its
// retries) leaves the challenge open for the app's code or a recovery code, and says why.
json begin_not_texted(Fixture& f, int twilio_code) {
    std::optional<json> reply;
    f.service->handle(Fixture::root(), protocol::Request{method::Begin, {{"user", "alice"}}},
                      [&reply](json message) { reply = std::move(message); });
    SmsResult refused;
    refused.http_status = 400;
    refused.twilio_code = twilio_code;
    refused.message = "Attempt to send to unsubscribed recipient";
    f.messenger.answer(refused);
    assert_true(reply.has_value());
    assert_ok(*reply);
    const json& not_sent = (*reply)["parameters"]["textNotSent"];
    assert_error(not_sent, err::DeliveryFailed);
    assert_int_equal(not_sent["parameters"]["code"].get<int>(), twilio_code);
    assert_int_equal(not_sent["parameters"]["status"].get<int>(), 400);
    return (*reply)["parameters"];
}

void a_text_not_taken_keeps_the_challenge_for_other_codes(void** state) {
    Fixture& f = fixture(state);
    f.enroll_alice();
    auto recovery = f.call(Fixture::root(), method::RegenerateRecoveryCodes, {{"user", "alice"}});
    const std::string recovery_code = recovery["parameters"]["recoveryCodes"][0];

    json begun = begin_not_texted(f, 21610);
    std::string id = begun["twoFactorId"];
    assert_int_equal(begun["attemptsLeft"].get<int>(), f.settings.login.tries);
    // A wrong code costs a try as always.
    json wrong = f.complete(id, "000000");
    assert_error(wrong, err::InvalidCode);
    assert_int_equal(wrong["parameters"]["attemptsLeft"].get<int>(), f.settings.login.tries - 1);
    assert_ok(f.complete(id, f.app_code(1)));

    assert_ok(f.complete(begin_not_texted(f, 21211)["twoFactorId"], recovery_code));
}

void a_resend_after_a_text_not_taken_tries_again(void** state) {
    Fixture& f = fixture(state);
    f.enroll_alice();
    std::string id = begin_not_texted(f, 21614)["twoFactorId"];
    // Refused again: still no code to type, and the challenge stays.
    json again = f.call(Fixture::alice(), method::SendCode, {{"twoFactorId", id}}, false);
    assert_error(again, err::DeliveryFailed);
    assert_ok(f.call(Fixture::alice(), method::SendCode, {{"twoFactorId", id}}));
    assert_int_equal(f.messenger.sent.size(), 3);
    assert_ok(f.complete(id, f.messenger.last_code()));
}

// A call after a text that did not go out reads a code the challenge then accepts.
void a_call_after_a_text_not_taken_reads_a_working_code(void** state) {
    Fixture& f = fixture(state);
    f.settings.voice.enabled = true;
    f.settings.twilio.from = "+15005550006";
    f.start_service();
    f.enroll_alice();
    std::string id = begin_not_texted(f, 21614)["twoFactorId"];
    const std::string code = f.messenger.last_code();
    assert_ok(
        f.call(Fixture::alice(), method::SendCode, {{"twoFactorId", id}, {"delivery", "Call"}}));
    assert_true(f.messenger.sent.back().call);
    const std::string spoken = {code[0], ',', ' ', code[1]};
    assert_true(f.messenger.sent.back().body.find(spoken) != std::string::npos);
    assert_ok(f.complete(id, code));
}

// Issue 12: the code Verify texted proves the factor for a change, checked by VerificationCheck
// after the call returned; a wrong one counts as any wrong code.
void a_verify_code_proves_the_factor_for_a_change(void** state) {
    Fixture& f = fixture(state);
    f.settings.twilio.verify_service_sid = "VA" + std::string(32, 'a');
    f.messenger.verify = true;
    f.enroll_alice();
    json begun = f.call(Fixture::alice(), method::Begin, {{"user", "alice"}});
    const std::string id = begun["parameters"]["twoFactorId"];
    auto disable = [&](const std::string& code, bool approved) {
        std::optional<json> reply;
        f.service->handle(
            Fixture::alice(),
            protocol::Request{method::Disable,
                              {{"user", "alice"}, {"code", code}, {"twoFactorId", id}}},
            [&reply](json message) { reply = std::move(message); });
        assert_false(reply.has_value());  // answered once Verify answered
        assert_string_equal(f.messenger.sent.back().body.c_str(), ("check:" + code).c_str());
        SmsResult checked;
        checked.accepted = approved;
        checked.http_status = 200;
        checked.status = approved ? "approved" : "pending";
        f.messenger.answer(checked);
        assert_true(reply.has_value());
        return *reply;
    };
    assert_error(disable("424241", false), err::InvalidCode);
    json state_now = f.call(Fixture::root(), method::Status, {{"user", "alice"}});
    assert_int_equal(state_now["parameters"]["failures"].get<int>(), 1);
    assert_ok(disable("424242", true));
    state_now = f.call(Fixture::root(), method::Status, {{"user", "alice"}});
    assert_false(state_now["parameters"]["enabled"].get<bool>());
}

void wrong_codes_after_a_text_not_taken_lock(void** state) {
    Fixture& f = fixture(state);
    f.settings.login.lockout_failures = 2;
    f.enroll_alice();
    std::string id = begin_not_texted(f, 21211)["twoFactorId"];
    assert_error(f.complete(id, "000000"), err::InvalidCode);
    assert_error(f.complete(id, "000001"), err::Locked);
    assert_error(f.call(Fixture::root(), method::Begin, {{"user", "alice"}}), err::Locked);
}

// With Verify, a verification that was not started sends no code to VerificationCheck: a code
// that is no app's is wrong here, and the app's code gets in; once a resend started one, Verify
// checks again.
void a_verification_not_started_keeps_the_challenge(void** state) {
    Fixture& f = fixture(state);
    f.settings.twilio.verify_service_sid = "VA" + std::string(32, 'a');
    f.messenger.verify = true;
    f.enroll_alice();
    std::string id = begin_not_texted(f, 60410)["twoFactorId"];
    assert_string_equal(f.messenger.sent.back().body.c_str(), "verify:sms");
    assert_error(f.complete(id, "000000"), err::InvalidCode);
    assert_true(f.messenger.pending.empty());  // no VerificationCheck
    assert_ok(f.call(Fixture::alice(), method::SendCode, {{"twoFactorId", id}}));
    std::optional<json> reply;
    f.service->handle(
        Fixture::root(),
        protocol::Request{method::Complete, {{"twoFactorId", id}, {"code", "424242"}}},
        [&reply](json message) { reply = std::move(message); });
    assert_string_equal(f.messenger.sent.back().body.c_str(), "check:424242");
    SmsResult approved;
    approved.accepted = true;
    approved.http_status = 200;
    approved.status = "approved";
    f.messenger.answer(approved);
    assert_ok(*reply);
}

// Issue 12, no text twice: a text Twilio may have taken (a 500, no answer once sent) keeps the
// challenge open, says the text may be late, and its code and a resend still work.
void a_text_that_may_arrive_keeps_the_challenge(void** state) {
    Fixture& f = fixture(state);
    f.enroll_alice();
    std::optional<json> reply;
    f.service->handle(Fixture::root(),
                      protocol::Request{method::Begin, {{"user", "alice"}, {"timeout", 10}}},
                      [&reply](json message) { reply = std::move(message); });
    assert_int_equal(f.messenger.pending.size(), 1);
    // The text dies with its challenge and its attempts end 2 s before the caller stops waiting.
    const TextOptions& options = f.messenger.sent.back().options;
    assert_int_equal(options.validity.count(), f.settings.login.challenge_lifetime);
    assert_int_equal(options.budget.count(), 8000);
    SmsResult unknown;
    unknown.http_status = 500;
    unknown.twilio_code = 20500;
    unknown.may_arrive = true;
    f.messenger.answer(unknown);
    assert_true(reply.has_value());
    assert_ok(*reply);
    assert_true((*reply)["parameters"]["textMayBeLate"].get<bool>());
    std::string id = (*reply)["parameters"]["twoFactorId"].get<std::string>();
    std::string code = f.messenger.last_code();

    // A resend whose fate is unknown too says so, and sends the same code.
    f.service->handle(Fixture::alice(), protocol::Request{method::SendCode, {{"twoFactorId", id}}},
                      [&reply](json message) { reply = std::move(message); });
    f.messenger.answer(unknown);
    assert_ok(*reply);
    assert_true((*reply)["parameters"]["textMayBeLate"].get<bool>());
    assert_string_equal(f.messenger.last_code().c_str(), code.c_str());
    assert_int_equal(f.messenger.sent.size(), 2);  // one text each, none repeated by itself
    assert_ok(f.complete(id, code));
}

// A setup text carries the challenge lifetime as its ValidityPeriod.
void a_setup_text_has_a_validity_period(void** state) {
    Fixture& f = fixture(state);
    assert_ok(
        f.call(Fixture::root(), method::SendCode, {{"mobilePhone", kPhone}, {"secret", kSecret}}));
    assert_int_equal(f.messenger.sent.back().options.validity.count(),
                     f.settings.login.challenge_lifetime);
    assert_int_equal(f.messenger.sent.back().options.budget.count(), 0);
}

void challenges_expire(void** state) {
    Fixture& f = fixture(state);
    f.enroll_alice();
    std::string id = f.begin();
    f.now += f.settings.login.challenge_lifetime;
    assert_error(f.complete(id, f.messenger.last_code()), err::NotFound);
    assert_error(f.call(Fixture::root(), method::SendCode, {{"twoFactorId", id}}), err::NotFound);
}

// --- permissions --------------------------------------------------------------------------------

void users_act_only_on_themselves(void** state) {
    Fixture& f = fixture(state);
    f.enroll_alice();
    for (const char* name : {method::Begin, method::Status, method::Disable})
        assert_error(f.call(Fixture::bob(), name, {{"user", "alice"}}), err::PermissionDenied);
    assert_error(f.call(Fixture::bob(), method::Enable,
                        {{"user", "alice"},
                         {"secret", kSecret},
                         {"code", f.app_code(0)},
                         {"mobilePhone", "+15555550199"}}),
                 err::PermissionDenied);
    std::string id = f.begin();
    assert_error(f.call(Fixture::bob(), method::Complete,
                        {{"twoFactorId", id}, {"code", f.messenger.last_code()}}),
                 err::PermissionDenied);
    assert_error(f.call(Fixture::bob(), method::SendCode, {{"twoFactorId", id}}),
                 err::PermissionDenied);
    // A uid without a name is nobody's owner.
    assert_error(f.call(Caller{4242, ""}, method::Status, {{"user", "alice"}}),
                 err::PermissionDenied);
    // Alice herself may.
    assert_ok(f.call(Fixture::alice(), method::Status, {{"user", "alice"}}));
    assert_ok(f.call(Fixture::alice(), method::Complete,
                     {{"twoFactorId", id}, {"code", f.messenger.last_code()}}));
}

void only_enrolling_users_may_text_a_number(void** state) {
    Fixture& f = fixture(state);
    f.settings.sms.enroll_texts_per_hour = 2;
    f.start_service();
    const json setup = {{"mobilePhone", kPhone}, {"secret", kSecret}};
    // Enrolling herself, alice may text her number, a few times an hour.
    assert_ok(f.call(Fixture::alice(), method::SendCode, setup));
    assert_string_equal(f.messenger.last_code().c_str(), f.app_code(0).c_str());
    assert_ok(f.call(Fixture::alice(), method::SendCode, setup));
    assert_error(f.call(Fixture::alice(), method::SendCode, setup), err::RateLimited);
    // Once enabled she may not: the daemon is nobody's free SMS gateway. Nor a nameless uid.
    f.now += 3600;
    f.enroll_alice();
    assert_error(f.call(Fixture::alice(), method::SendCode, setup), err::PermissionDenied);
    assert_error(f.call(Caller{4242, ""}, method::SendCode, setup), err::PermissionDenied);
    assert_ok(f.call(Fixture::root(), method::SendCode, setup));
}

void enable_wants_a_code_of_the_secret(void** state) {
    Fixture& f = fixture(state);
    json refused = f.call(
        Fixture::alice(), method::Enable,
        {{"user", "alice"}, {"secret", kSecret}, {"code", f.app_code(5)}, {"mobilePhone", kPhone}});
    assert_error(refused, err::InvalidCode);
    assert_error(f.call(Fixture::root(), method::Begin, {{"user", "alice"}}), err::NotEnrolled);
    // The code texted at setup enables, within the challenge lifetime.
    assert_ok(
        f.call(Fixture::alice(), method::SendCode, {{"mobilePhone", kPhone}, {"secret", kSecret}}));
    std::string texted = f.messenger.last_code();
    f.now += 200;
    assert_ok(f.call(
        Fixture::alice(), method::Enable,
        {{"user", "alice"}, {"secret", kSecret}, {"code", texted}, {"mobilePhone", kPhone}}));
}

void disable_ends_open_challenges(void** state) {
    Fixture& f = fixture(state);
    f.enroll_alice();
    std::string id = f.begin();
    // Root: alice herself would need a code of the factor (security_factor_change).
    assert_ok(f.call(Fixture::root(), method::Disable, {{"user", "alice"}}));
    assert_error(f.complete(id, f.messenger.last_code()), err::NotFound);
    assert_error(f.call(Fixture::alice(), method::Disable, {{"user", "alice"}}), err::NotEnrolled);
}

// --- challenge persistence: a restarted daemon (a new Service on the same store) ----------------

void a_restart_loses_no_login_in_progress(void** state) {
    Fixture& f = fixture(state);
    f.enroll_alice();
    std::string id = f.begin();
    std::string code = f.messenger.last_code();
    f.start_service();
    f.now += 20;
    assert_ok(f.complete(id, code));
    f.start_service();
    assert_error(f.complete(id, code), err::NotFound);  // used up, across restarts too
}

void attempts_and_resends_count_across_a_restart(void** state) {
    Fixture& f = fixture(state);
    f.enroll_alice();
    std::string id = f.begin();
    assert_error(f.complete(id, "000000"), err::InvalidCode);
    assert_ok(f.call(Fixture::alice(), method::SendCode, {{"twoFactorId", id}}));
    f.start_service();
    json answer = f.complete(id, "000000");
    assert_error(answer, err::InvalidCode);
    assert_int_equal(answer["parameters"]["attemptsLeft"].get<int>(), f.settings.login.tries - 2);
    for (int i = 1; i < f.settings.login.resends; ++i)
        assert_ok(f.call(Fixture::alice(), method::SendCode, {{"twoFactorId", id}}));
    assert_error(f.call(Fixture::alice(), method::SendCode, {{"twoFactorId", id}}),
                 err::RateLimited);
}

void a_restarted_daemon_still_texts_unused_steps(void** state) {
    Fixture& f = fixture(state);
    f.enroll_alice();
    std::string ssh = f.begin();
    std::string ssh_code = f.messenger.last_code();
    f.start_service();
    std::string sudo = f.begin();
    std::string sudo_code = f.messenger.last_code();
    assert_string_not_equal(ssh_code.c_str(), sudo_code.c_str());
    assert_ok(f.complete(sudo, sudo_code));
    assert_ok(f.complete(ssh, ssh_code));
}

void expired_challenges_stay_expired_after_a_restart(void** state) {
    Fixture& f = fixture(state);
    f.enroll_alice();
    std::string id = f.begin();
    std::string code = f.messenger.last_code();
    f.now += f.settings.login.challenge_lifetime;
    f.start_service();
    assert_error(f.complete(id, code), err::NotFound);
}

// --- trust (trust=, [trust] max_seconds) ---------------------------------------------------------

// A Begin as the module inside `service` sends it with trust=`trust`.
json begin_as(Fixture& f, const std::string& service, const std::string& ip, std::int64_t trust,
              const Caller& caller = Fixture::root(), const std::string& tty = "pts/7") {
    json p = {{"user", "alice"}, {"service", service}, {"tty", tty}};
    if (!ip.empty()) p["ipAddress"] = ip;
    if (trust > 0) p["trust"] = trust;
    return f.call(caller, method::Begin, p);
}

bool is_trusted(const json& reply) {
    return !reply.contains("error") && reply["parameters"].value("trusted", false);
}

// Begins with trust and completes with the texted code: the login that makes a trust.
void trusted_login(Fixture& f, const std::string& service, const std::string& ip,
                   std::int64_t trust, const std::string& tty = "pts/7") {
    json reply = begin_as(f, service, ip, trust, Fixture::root(), tty);
    assert_false(is_trusted(reply));
    assert_ok(
        f.complete(reply["parameters"]["twoFactorId"].get<std::string>(), f.messenger.last_code()));
}

void trust_skips_the_code_for_the_same_service_and_origin(void** state) {
    Fixture& f = fixture(state);
    f.enroll_alice();
    trusted_login(f, "sshd", "198.51.100.4", 600);
    const std::size_t texts = f.messenger.sent.size();
    json again = begin_as(f, "sshd", "198.51.100.4", 600);
    assert_true(is_trusted(again));
    assert_false(again["parameters"].contains("twoFactorId"));
    assert_int_equal(again["parameters"]["trustedUntil"].get<std::int64_t>(), f.now + 600);
    assert_int_equal(f.messenger.sent.size(), texts);  // nothing texted
    // Another origin, another service, or no trust= asked: the code as always.
    assert_false(is_trusted(begin_as(f, "sshd", "198.51.100.5", 600)));
    assert_false(is_trusted(begin_as(f, "sudo", "198.51.100.4", 600)));
    assert_false(is_trusted(begin_as(f, "sshd", "198.51.100.4", 0)));
    // Without an RHOST the terminal is the origin.
    trusted_login(f, "sudo", "", 600, "/dev/pts/3");
    assert_true(is_trusted(begin_as(f, "sudo", "", 600, Fixture::root(), "/dev/pts/3")));
    assert_false(is_trusted(begin_as(f, "sudo", "", 600, Fixture::root(), "/dev/pts/4")));
    // A trust survives a restart of the daemon.
    f.start_service();
    assert_true(is_trusted(begin_as(f, "sshd", "198.51.100.4", 600)));
}

// Two hosts of a fleet on one store: a trust made through host A is honoured on A only. For
// sudo and su the origin is a terminal name, which every host has.
void a_trust_is_bound_to_the_host_that_made_it(void** state) {
    Fixture& f = fixture(state);
    f.settings.trust.host_id = "host-a";
    f.start_service();
    f.enroll_alice();
    trusted_login(f, "sudo", "", 600, "/dev/pts/0");
    trusted_login(f, "sshd", "198.51.100.4", 600);
    f.settings.trust.host_id = "host-b";
    f.start_service();
    assert_false(is_trusted(begin_as(f, "sudo", "", 600, Fixture::root(), "/dev/pts/0")));
    assert_false(is_trusted(begin_as(f, "sshd", "198.51.100.4", 600)));
    // B's own trust, and A's still honoured on A.
    trusted_login(f, "sudo", "", 600, "/dev/pts/0");
    assert_true(is_trusted(begin_as(f, "sudo", "", 600, Fixture::root(), "/dev/pts/0")));
    f.settings.trust.host_id = "host-a";
    f.start_service();
    assert_true(is_trusted(begin_as(f, "sudo", "", 600, Fixture::root(), "/dev/pts/0")));
    assert_true(is_trusted(begin_as(f, "sshd", "198.51.100.4", 600)));
    // Status lists both hosts' trusts, each with its host.
    json status = f.call(Fixture::root(), method::Status, {{"user", "alice"}});
    std::vector<std::string> hosts;
    for (const json& t : status["parameters"]["trusts"]) hosts.push_back(t.value("host", ""));
    std::sort(hosts.begin(), hosts.end());
    assert_int_equal(hosts.size(), 3);
    assert_string_equal(hosts[0].c_str(), "host-a");
    assert_string_equal(hosts[1].c_str(), "host-a");
    assert_string_equal(hosts[2].c_str(), "host-b");
}

// Through a server, a trust is bound to the login host the call came from (its certificate's
// name), not to the server: made through A, it is honoured through A only, and neither through
// B nor on the server's own socket.
void a_trust_through_a_login_host_is_bound_to_it(void** state) {
    Fixture& f = fixture(state);
    f.settings.trust.host_id = "server-1";
    f.start_service();
    f.enroll_alice();
    const Caller root_of_a{0, "", "login1.test"};
    const Caller root_of_b{0, "", "login2.test"};
    json begun = begin_as(f, "sudo", "", 600, root_of_a, "/dev/pts/0");
    assert_false(is_trusted(begun));
    assert_ok(f.call(
        root_of_a, method::Complete,
        {{"twoFactorId", begun["parameters"]["twoFactorId"]}, {"code", f.messenger.last_code()}}));
    assert_true(is_trusted(begin_as(f, "sudo", "", 600, root_of_a, "/dev/pts/0")));
    assert_false(is_trusted(begin_as(f, "sudo", "", 600, root_of_b, "/dev/pts/0")));
    assert_false(is_trusted(begin_as(f, "sudo", "", 600, Fixture::root(), "/dev/pts/0")));
    json status = f.call(Fixture::root(), method::Status, {{"user", "alice"}});
    assert_int_equal(status["parameters"]["trusts"].size(), 1);
    assert_string_equal(status["parameters"]["trusts"][0].value("host", "").c_str(), "login1.test");
}

void trust_ends_when_it_expires(void** state) {
    Fixture& f = fixture(state);
    f.enroll_alice();
    trusted_login(f, "sshd", "198.51.100.4", 600);
    f.now += 599;
    assert_true(is_trusted(begin_as(f, "sshd", "198.51.100.4", 600)));
    f.now += 1;
    assert_false(is_trusted(begin_as(f, "sshd", "198.51.100.4", 600)));
    // A smaller trust= for the service shortens a trust already made.
    f.now += 30;
    trusted_login(f, "sshd", "198.51.100.4", 600);
    f.now += 60;
    assert_false(is_trusted(begin_as(f, "sshd", "198.51.100.4", 60)));
    assert_true(is_trusted(begin_as(f, "sshd", "198.51.100.4", 600)));
}

void no_trust_after_wrong_codes(void** state) {
    Fixture& f = fixture(state);
    f.settings.login.tries = 2;
    f.enroll_alice();
    json reply = begin_as(f, "sshd", "198.51.100.4", 600);
    std::string id = reply["parameters"]["twoFactorId"].get<std::string>();
    assert_error(f.complete(id, "000000"), err::InvalidCode);
    assert_error(f.complete(id, "000000"), err::InvalidCode);
    assert_false(is_trusted(begin_as(f, "sshd", "198.51.100.4", 600)));
    json status = f.call(Fixture::root(), method::Status, {{"user", "alice"}});
    assert_true(status["parameters"]["trusts"].empty());
}

void no_trust_used_while_locked(void** state) {
    Fixture& f = fixture(state);
    f.settings.login.lockout_failures = 2;
    f.enroll_alice();
    trusted_login(f, "sshd", "198.51.100.4", 3600);
    // Someone elsewhere guesses until the account locks.
    assert_error(f.complete(f.begin(), "000000"), err::InvalidCode);
    assert_error(f.complete(f.begin(), "000000"), err::Locked);
    const std::size_t texts = f.messenger.sent.size();
    assert_error(begin_as(f, "sshd", "198.51.100.4", 3600), err::Locked);
    assert_int_equal(f.messenger.sent.size(), texts);
    f.now += f.settings.login.lockout_duration;
    assert_true(is_trusted(begin_as(f, "sshd", "198.51.100.4", 3600)));
}

void max_seconds_caps_trust(void** state) {
    Fixture& f = fixture(state);
    f.settings.trust.max_seconds = 60;
    f.enroll_alice();
    trusted_login(f, "sshd", "198.51.100.4", 3600);
    json status = f.call(Fixture::root(), method::Status, {{"user", "alice"}});
    assert_int_equal(status["parameters"]["trusts"][0]["trustedUntil"].get<std::int64_t>(),
                     f.now + 60);
    f.now += 59;
    assert_true(is_trusted(begin_as(f, "sshd", "198.51.100.4", 3600)));
    f.now += 1;
    assert_false(is_trusted(begin_as(f, "sshd", "198.51.100.4", 3600)));

    // Made under a larger max_seconds, a trust ends at its creation plus today's.
    f.now += 30;
    f.settings.trust.max_seconds = 3600;
    trusted_login(f, "sshd", "198.51.100.4", 3600);
    f.settings.trust.max_seconds = 60;
    f.now += 60;
    assert_false(is_trusted(begin_as(f, "sshd", "198.51.100.4", 3600)));
    status = f.call(Fixture::root(), method::Status, {{"user", "alice"}});
    assert_true(status["parameters"]["trusts"].empty());

    // max_seconds = 0: no trust at all.
    f.settings.trust.max_seconds = 0;
    f.now += 30;
    trusted_login(f, "sshd", "198.51.100.4", 3600);
    assert_false(is_trusted(begin_as(f, "sshd", "198.51.100.4", 3600)));
}

void only_root_asks_for_trust(void** state) {
    Fixture& f = fixture(state);
    f.enroll_alice();
    json reply = begin_as(f, "sshd", "198.51.100.4", 600, Fixture::alice());
    assert_ok(
        f.complete(reply["parameters"]["twoFactorId"].get<std::string>(), f.messenger.last_code()));
    assert_false(is_trusted(begin_as(f, "sshd", "198.51.100.4", 600)));
    assert_error(f.call(Fixture::root(), method::Begin, {{"user", "alice"}, {"trust", -1}}),
                 err::InvalidParameter);
    assert_error(f.call(Fixture::root(), method::Begin, {{"user", "alice"}, {"trust", "600"}}),
                 err::InvalidParameter);
}

void forget_disable_and_enable_end_trusts(void** state) {
    Fixture& f = fixture(state);
    f.enroll_alice();
    trusted_login(f, "sshd", "198.51.100.4", 600);
    trusted_login(f, "sudo", "", 600, "/dev/pts/3");
    json status = f.call(Fixture::alice(), method::Status, {{"user", "alice"}});
    const json& trusts = status["parameters"]["trusts"];
    assert_int_equal(trusts.size(), 2);
    assert_string_equal(trusts[0]["service"].get<std::string>().c_str(), "sshd");
    assert_string_equal(trusts[0]["origin"].get<std::string>().c_str(), "198.51.100.4");
    assert_string_equal(trusts[1]["origin"].get<std::string>().c_str(), "tty:/dev/pts/3");
    assert_int_equal(trusts[1]["trustedUntil"].get<std::int64_t>(), f.now + 600);

    // forget: root, or the user; nobody else.
    assert_error(f.call(Fixture::bob(), method::Forget, {{"user", "alice"}}),
                 err::PermissionDenied);
    assert_true(is_trusted(begin_as(f, "sshd", "198.51.100.4", 600)));
    json forgotten = f.call(Fixture::alice(), method::Forget, {{"user", "alice"}});
    assert_ok(forgotten);
    assert_int_equal(forgotten["parameters"]["forgotten"].get<std::int64_t>(), 2);
    assert_false(is_trusted(begin_as(f, "sshd", "198.51.100.4", 600)));

    // A new phone or secret (enable over the enrollment) ends them.
    f.now += 30;
    trusted_login(f, "sshd", "198.51.100.4", 600);
    f.now += 30;
    f.enroll_alice();
    assert_false(is_trusted(begin_as(f, "sshd", "198.51.100.4", 600)));

    // disable ends them.
    f.now += 30;
    trusted_login(f, "sshd", "198.51.100.4", 600);
    assert_ok(f.call(Fixture::root(), method::Disable, {{"user", "alice"}}));
    f.now += 30;
    f.enroll_alice();
    assert_false(is_trusted(begin_as(f, "sshd", "198.51.100.4", 600)));
}

// --- recovery codes -----------------------------------------------------------------------------

std::vector<std::string> enroll_alice_for_codes(Fixture& f) {
    json reply = f.call(
        Fixture::root(), method::Enable,
        {{"user", "alice"}, {"secret", kSecret}, {"code", f.app_code(0)}, {"mobilePhone", kPhone}});
    assert_ok(reply);
    return reply["parameters"]["recoveryCodes"].get<std::vector<std::string>>();
}

int codes_left(Fixture& f) {
    json status = f.call(Fixture::root(), method::Status, {{"user", "alice"}});
    return status["parameters"]["recoveryCodesLeft"].get<int>();
}

void enable_issues_ten_recovery_codes(void** state) {
    Fixture& f = fixture(state);
    auto codes = enroll_alice_for_codes(f);
    assert_int_equal(codes.size(), 10);
    for (const auto& code : codes) assert_int_equal(code.size(), 11);
    assert_int_equal(codes_left(f), 10);
}

void a_recovery_code_works_once_and_counts_as_a_failure_after(void** state) {
    Fixture& f = fixture(state);
    auto codes = enroll_alice_for_codes(f);
    json reply = f.complete(f.begin(), codes[3]);
    assert_ok(reply);
    assert_int_equal(reply["parameters"]["recoveryCodesLeft"].get<int>(), 9);
    // Typed in lower case without the dash, the same code is still the same code: refused.
    std::string retyped = codes[3].substr(0, 5) + codes[3].substr(6);
    for (auto& c : retyped) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    assert_error(f.complete(f.begin(), retyped), err::InvalidCode);
    assert_int_equal(f.store->get_failures("alice").failures, 1);
    assert_int_equal(codes_left(f), 9);
    // Another one still works, typed loosely.
    std::string loose = codes[4];
    for (auto& c : loose) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    assert_ok(f.complete(f.begin(), loose));
    assert_int_equal(codes_left(f), 8);
}

void new_recovery_codes_kill_the_old(void** state) {
    Fixture& f = fixture(state);
    auto old_codes = enroll_alice_for_codes(f);
    // Alice herself needs a code of her factor; a recovery code is one.
    assert_error(f.call(Fixture::alice(), method::RegenerateRecoveryCodes, {{"user", "alice"}}),
                 err::PermissionDenied);
    json reply = f.call(Fixture::alice(), method::RegenerateRecoveryCodes,
                        {{"user", "alice"}, {"code", old_codes[0]}});
    assert_ok(reply);
    auto new_codes = reply["parameters"]["recoveryCodes"].get<std::vector<std::string>>();
    assert_int_equal(new_codes.size(), 10);
    assert_int_equal(codes_left(f), 10);
    assert_error(f.complete(f.begin(), old_codes[1]), err::InvalidCode);
    assert_ok(f.complete(f.begin(), new_codes[1]));
    // Root needs no code; bob may not.
    assert_ok(f.call(Fixture::root(), method::RegenerateRecoveryCodes, {{"user", "alice"}}));
    assert_error(f.call(Fixture::bob(), method::RegenerateRecoveryCodes, {{"user", "alice"}}),
                 err::PermissionDenied);
    assert_error(f.call(Fixture::root(), method::RegenerateRecoveryCodes, {{"user", "carol"}}),
                 err::NotEnrolled);
}

void a_recovery_code_proves_the_factor_to_disable(void** state) {
    Fixture& f = fixture(state);
    auto codes = enroll_alice_for_codes(f);
    assert_error(
        f.call(Fixture::alice(), method::Disable, {{"user", "alice"}, {"code", "ZZZZZ-ZZZZZ"}}),
        err::InvalidCode);
    assert_ok(f.call(Fixture::alice(), method::Disable, {{"user", "alice"}, {"code", codes[9]}}));
    assert_int_equal(f.store->count_recovery_codes("alice"), 0);
}

}  // namespace

// Status without a user: root of this host reads what texts cost; a login host's root over TLS
// and a local user do not (the busiest prefixes are other users' numbers).
void status_without_a_user_is_the_local_roots_sms_report(void** state) {
    Fixture& f = fixture(state);
    f.enroll_alice();
    f.begin();
    json report = f.call(Fixture::root(), method::Status, json::object());
    assert_ok(report);
    assert_int_equal(report["parameters"]["textsToday"]["sent"].get<int>(), 1);
    assert_string_equal(
        report["parameters"]["busiestPrefixes"][0]["prefix"].get<std::string>().c_str(),
        "+1555555");
    assert_error(f.call(Caller{0, "", "login1.test"}, method::Status, json::object()),
                 err::InvalidParameter);
    assert_error(f.call(Fixture::alice(), method::Status, json::object()), err::InvalidParameter);
}

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(texted_code_completes_once, setup, teardown),
        cmocka_unit_test_setup_teardown(status_without_a_user_is_the_local_roots_sms_report, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(the_step_that_enabled_is_used, setup, teardown),
        cmocka_unit_test_setup_teardown(app_codes_are_single_use, setup, teardown),
        cmocka_unit_test_setup_teardown(close_logins_get_distinct_working_codes, setup, teardown),
        cmocka_unit_test_setup_teardown(wrong_codes_count_down_then_kill_the_challenge, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(repeated_failures_lock_the_account, setup, teardown),
        cmocka_unit_test_setup_teardown(failures_outside_the_window_start_over, setup, teardown),
        cmocka_unit_test_setup_teardown(success_clears_failures, setup, teardown),
        cmocka_unit_test_setup_teardown(root_unlocks, setup, teardown),
        cmocka_unit_test_setup_teardown(texts_per_user_are_limited, setup, teardown),
        cmocka_unit_test_setup_teardown(texts_to_one_number_are_limited, setup, teardown),
        cmocka_unit_test_setup_teardown(texts_per_minute_are_limited_for_everyone, setup, teardown),
        cmocka_unit_test_setup_teardown(resends_send_the_same_code_a_few_times, setup, teardown),
        cmocka_unit_test_setup_teardown(a_call_reads_the_challenge_code_and_counts_as_a_resend,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(a_call_without_voice_is_refused_and_costs_nothing, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(a_text_not_taken_keeps_the_challenge_for_other_codes, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(a_resend_after_a_text_not_taken_tries_again, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(a_call_after_a_text_not_taken_reads_a_working_code, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(wrong_codes_after_a_text_not_taken_lock, setup, teardown),
        cmocka_unit_test_setup_teardown(a_verify_code_proves_the_factor_for_a_change, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(a_verification_not_started_keeps_the_challenge, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(too_many_logins_begun_are_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(a_text_that_may_arrive_keeps_the_challenge, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(a_setup_text_has_a_validity_period, setup, teardown),
        cmocka_unit_test_setup_teardown(challenges_expire, setup, teardown),
        cmocka_unit_test_setup_teardown(users_act_only_on_themselves, setup, teardown),
        cmocka_unit_test_setup_teardown(only_enrolling_users_may_text_a_number, setup, teardown),
        cmocka_unit_test_setup_teardown(enable_wants_a_code_of_the_secret, setup, teardown),
        cmocka_unit_test_setup_teardown(disable_ends_open_challenges, setup, teardown),
        cmocka_unit_test_setup_teardown(a_restart_loses_no_login_in_progress, setup, teardown),
        cmocka_unit_test_setup_teardown(attempts_and_resends_count_across_a_restart, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(a_restarted_daemon_still_texts_unused_steps, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(expired_challenges_stay_expired_after_a_restart, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(trust_skips_the_code_for_the_same_service_and_origin, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(a_trust_is_bound_to_the_host_that_made_it, setup, teardown),
        cmocka_unit_test_setup_teardown(a_trust_through_a_login_host_is_bound_to_it, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(trust_ends_when_it_expires, setup, teardown),
        cmocka_unit_test_setup_teardown(no_trust_after_wrong_codes, setup, teardown),
        cmocka_unit_test_setup_teardown(no_trust_used_while_locked, setup, teardown),
        cmocka_unit_test_setup_teardown(max_seconds_caps_trust, setup, teardown),
        cmocka_unit_test_setup_teardown(only_root_asks_for_trust, setup, teardown),
        cmocka_unit_test_setup_teardown(forget_disable_and_enable_end_trusts, setup, teardown),
        cmocka_unit_test_setup_teardown(enable_issues_ten_recovery_codes, setup, teardown),
        cmocka_unit_test_setup_teardown(a_recovery_code_works_once_and_counts_as_a_failure_after,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(new_recovery_codes_kill_the_old, setup, teardown),
        cmocka_unit_test_setup_teardown(a_recovery_code_proves_the_factor_to_disable, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
