// SPDX-License-Identifier: BSD-2-Clause
// TwilioClient against the real fake_twilio.py endpoint, on a real sd-event loop.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <systemd/sd-event.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csetjmp>
#include <cstdarg>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <vector>

// cmocka.h has no extern "C" guard of its own.
extern "C" {
#include <cmocka.h>
}

#include "daemon/twilio/twilio.h"
#include "fake_twilio_process.h"

using namespace std::chrono_literals;
using twofactor::SecureString;
using twofactor::SmsResult;
using twofactor::TwilioClient;
using twofactor::TwilioSettings;
using twofactor::testing::FakeTwilio;
using Clock = std::chrono::steady_clock;
using nlohmann::json;

namespace {

FakeTwilio* fake = nullptr;

constexpr const char* kTo = "+15005550006";
constexpr const char* kFrom = "+15005550001";
constexpr const char* kText = "Your verification code is 123456";

TwilioSettings settings_for_fake() {
    TwilioSettings s;
    s.api_url = fake->url();
    s.account_sid = twofactor::testing::kFakeAccountSid;
    s.auth_token = SecureString(std::string_view(twofactor::testing::kFakeAuthToken));
    s.from = kFrom;
    s.request_timeout = 2000ms;
    s.deadline = 8000ms;
    s.max_attempts = 4;
    s.backoff_initial = 50ms;
    s.backoff_max = 200ms;
    return s;
}

long elapsed_ms(Clock::time_point since) {
    return static_cast<long>(
        std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - since).count());
}

int on_limit(sd_event_source* source, uint64_t, void*) {
    return sd_event_exit(sd_event_source_get_event(source), -ETIMEDOUT);
}

// One event loop and the results it collected. Callbacks stop the loop once `expected` results
// are in; a timer stops it anyway after the limit given to run().
struct Loop {
    sd_event* loop = nullptr;
    std::vector<SmsResult> results;
    std::size_t expected = 1;

    Loop() { assert_int_equal(sd_event_new(&loop), 0); }
    ~Loop() { sd_event_unref(loop); }

    TwilioClient::Callback collect() {
        return [this](const SmsResult& result) {
            results.push_back(result);
            if (results.size() == expected) sd_event_exit(loop, 0);
        };
    }

    // 0 when the expected results came in, -ETIMEDOUT when the limit passed first.
    int run(std::chrono::milliseconds limit) {
        sd_event_source* timer = nullptr;
        assert_true(sd_event_add_time_relative(loop, &timer, CLOCK_MONOTONIC,
                                               static_cast<uint64_t>(limit.count()) * 1000, 1000,
                                               &on_limit, nullptr) >= 0);
        int code = sd_event_loop(loop);
        sd_event_source_disable_unref(timer);
        return code;
    }

    // A timer that runs `action` after `delay` (for tests that act while messages are pending).
    void at(std::chrono::milliseconds delay, std::function<void()>* action) {
        assert_true(sd_event_add_time_relative(
                        loop, nullptr, CLOCK_MONOTONIC, static_cast<uint64_t>(delay.count()) * 1000,
                        1000,
                        [](sd_event_source*, uint64_t, void* user) {
                            (*static_cast<std::function<void()>*>(user))();
                            return 0;
                        },
                        action) >= 0);
    }
};

SmsResult send_one(TwilioSettings settings, const char* to = kTo, long* took_ms = nullptr,
                   std::chrono::milliseconds limit = 20s) {
    Loop loop;
    TwilioClient client(loop.loop, std::move(settings));
    auto started = Clock::now();
    client.send(to, SecureString(std::string_view(kText)), loop.collect());
    assert_true(loop.results.empty());  // never from inside send()
    assert_int_equal(client.in_flight(), 1);
    assert_int_equal(loop.run(limit), 0);
    if (took_ms != nullptr) *took_ms = elapsed_ms(started);
    assert_int_equal(loop.results.size(), 1);
    assert_int_equal(client.in_flight(), 0);
    return loop.results.front();
}

std::vector<long> recorded_statuses() {
    std::vector<long> statuses;
    for (const auto& record : fake->messages()) {
        statuses.push_back(record["status"].is_null() ? 0 : record["status"].get<long>());
    }
    return statuses;
}

bool is_message_sid(const std::string& sid) {
    return sid.size() == 34 && sid.starts_with("SM") &&
           sid.find_first_not_of("0123456789abcdef", 2) == std::string::npos;
}

bool contains(const std::string& haystack, const char* needle) {
    return haystack.find(needle) != std::string::npos;
}

// A port on 127.0.0.1 that refuses connections: bound, never listening, so no one else gets it.
struct RefusingPort {
    int fd = -1;
    int port = 0;
    RefusingPort() {
        fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        assert_true(fd >= 0);
        sockaddr_in address{};
        address.sin_family = AF_INET;
        address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        assert_int_equal(bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
        socklen_t length = sizeof address;
        assert_int_equal(getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length), 0);
        port = ntohs(address.sin_port);
    }
    ~RefusingPort() { close(fd); }
};

// --- the tests ----------------------------------------------------------------------------

void accepted_with_the_right_form(void**) {
    SmsResult r = send_one(settings_for_fake());
    assert_true(r.accepted);
    assert_int_equal(r.http_status, 201);
    assert_int_equal(r.twilio_code, 0);
    assert_int_equal(r.attempts, 1);
    assert_true(is_message_sid(r.sid));

    json records = fake->messages();
    assert_int_equal(records.size(), 1);
    const json& record = records[0];
    assert_true(record["auth_ok"].get<bool>());
    assert_string_equal(record["path"].get<std::string>().c_str(),
                        "/2010-04-01/Accounts/AC0123456789abcdef0123456789abcdef/Messages.json");
    assert_string_equal(record["form"]["To"].get<std::string>().c_str(), kTo);
    assert_string_equal(record["form"]["From"].get<std::string>().c_str(), kFrom);
    assert_string_equal(record["form"]["Body"].get<std::string>().c_str(), kText);
    assert_false(record["form"].contains("MessagingServiceSid"));
    assert_string_equal(record["auth_user"].get<std::string>().c_str(),
                        twofactor::testing::kFakeAccountSid);
    assert_int_equal(record["status"].get<int>(), 201);
}

// Twilio's advice for production: an API key signs the request; the path keeps the account.
void api_key_signs_the_request(void**) {
    TwilioSettings s = settings_for_fake();
    s.auth_token = SecureString();
    s.api_key_sid = twofactor::testing::kFakeApiKeySid;
    s.api_key_secret = SecureString(std::string_view(twofactor::testing::kFakeApiKeySecret));
    SmsResult r = send_one(s);
    assert_true(r.accepted);
    json record = fake->messages()[0];
    assert_string_equal(record["auth_user"].get<std::string>().c_str(),
                        twofactor::testing::kFakeApiKeySid);
    assert_string_equal(record["path"].get<std::string>().c_str(),
                        "/2010-04-01/Accounts/AC0123456789abcdef0123456789abcdef/Messages.json");

    // A wrong secret is Twilio's 401, final.
    fake->reset();
    s.api_key_secret = SecureString(std::string_view("not-the-secret"));
    r = send_one(s);
    assert_false(r.accepted);
    assert_int_equal(r.http_status, 401);
    assert_int_equal(r.twilio_code, 20003);
    assert_int_equal(r.attempts, 1);
}

void user_agent_names_the_version(void**) {
    send_one(settings_for_fake());
    std::string agent = fake->messages()[0]["user_agent"].get<std::string>();
    std::printf("User-Agent: %s\n", agent.c_str());
    assert_true(agent.starts_with(std::string("twofactord/") + TWOFACTOR_VERSION + " ("));
    assert_true(contains(agent, "libcurl/"));
}

// ValidityPeriod goes in the form; the caller's budget cuts the configured deadline.
void validity_period_and_budget(void**) {
    fake->behave({{"delay_ms", 1500}, {"times", 1}});
    TwilioSettings s = settings_for_fake();
    Loop loop;
    TwilioClient client(loop.loop, std::move(s));
    twofactor::TextOptions options;
    options.validity = std::chrono::seconds(120);
    options.budget = 400ms;
    auto started = Clock::now();
    client.send(kTo, SecureString(std::string_view(kText)), options, loop.collect());
    assert_int_equal(loop.run(10s), 0);
    long took = elapsed_ms(started);
    const SmsResult& r = loop.results[0];
    assert_false(r.accepted);
    assert_true(r.may_arrive);
    assert_int_equal(r.attempts, 1);
    assert_true(took >= 350 && took < 1400);
    json record = fake->messages()[0];
    assert_string_equal(record["form"]["ValidityPeriod"].get<std::string>().c_str(), "120");
}

// Verify: a verification started (201, pending), checked wrong (200, pending), then right.
void verify_start_and_check(void**) {
    TwilioSettings s = settings_for_fake();
    s.verify_service_sid = twofactor::testing::kFakeVerifySid;
    s.verify_api_url = fake->url();
    SmsResult started = [&] {
        Loop loop;
        TwilioClient client(loop.loop, s);
        client.start_verification(kTo, "sms", {}, loop.collect());
        assert_int_equal(loop.run(10s), 0);
        return loop.results[0];
    }();
    assert_true(started.accepted);
    assert_string_equal(started.status.c_str(), "pending");
    assert_true(started.sid.starts_with("VE"));
    std::string code = fake->verify_code(kTo);
    for (const std::string& typed : {std::string(code == "000000" ? "111111" : "000000"), code}) {
        Loop loop;
        TwilioClient client(loop.loop, s);
        client.check_verification(kTo, SecureString(std::string_view(typed)), loop.collect());
        assert_int_equal(loop.run(10s), 0);
        const SmsResult& r = loop.results[0];
        assert_int_equal(r.http_status, 200);
        assert_int_equal(r.accepted, typed == code);
        assert_string_equal(r.status.c_str(), typed == code ? "approved" : "pending");
    }
}

// Voice: Calls.json with To, From, a TimeLimit and the TwiML; the call SID comes back; a 503
// is retried like a text's, a 500 is not (no call placed twice).
void a_call_is_placed_with_its_twiml(void**) {
    const std::string twiml = "<Response><Say>1, 2, 3 &amp; 4</Say></Response>";
    {
        Loop loop;
        TwilioClient client(loop.loop, settings_for_fake());
        fake->behave({{"status", 503}, {"times", 1}});
        client.call(kTo, SecureString(std::string_view(twiml)), {}, loop.collect());
        assert_int_equal(loop.run(10s), 0);
        const SmsResult& r = loop.results[0];
        assert_true(r.accepted);
        assert_int_equal(r.attempts, 2);
        assert_true(r.sid.starts_with("CA"));
    }
    json calls = fake->calls();
    assert_int_equal(calls.size(), 2);
    const json& form = calls[1]["form"];
    assert_string_equal(form["To"].get<std::string>().c_str(), kTo);
    assert_string_equal(form["From"].get<std::string>().c_str(), kFrom);
    assert_string_equal(form["Twiml"].get<std::string>().c_str(), twiml.c_str());
    assert_string_equal(form["TimeLimit"].get<std::string>().c_str(), "120");
    assert_false(form.contains("ValidityPeriod"));
    assert_int_equal(fake->messages().size(), 0);

    Loop loop;
    TwilioClient client(loop.loop, settings_for_fake());
    fake->behave({{"status", 500}, {"times", 1}});
    client.call(kTo, SecureString(std::string_view(twiml)), {}, loop.collect());
    assert_int_equal(loop.run(10s), 0);
    assert_false(loop.results[0].accepted);
    assert_true(loop.results[0].may_arrive);
    assert_int_equal(fake->calls().size(), 3);
}

void a_call_needs_a_from_number(void**) {
    TwilioSettings s = settings_for_fake();
    s.from.clear();
    s.messaging_service_sid = "MG0123456789abcdef0123456789abcdef";
    Loop loop;
    TwilioClient client(loop.loop, std::move(s));
    client.call(kTo, SecureString(std::string_view("<Response/>")), {}, loop.collect());
    assert_int_equal(loop.run(10s), 0);
    assert_false(loop.results[0].accepted);
    assert_string_equal(loop.results[0].message.c_str(), "calls need the Twilio from number");
    assert_int_equal(fake->calls().size(), 0);
}

void messaging_service_and_escaping(void**) {
    TwilioSettings s = settings_for_fake();
    s.from.clear();
    s.messaging_service_sid = "MG0123456789abcdef0123456789abcdef";
    s.api_url += "/";  // a trailing slash must not double up in the path
    Loop loop;
    TwilioClient client(loop.loop, std::move(s));
    const char* text = "Code: 654321 & more = +50% \xc3\xa9";
    client.send(kTo, SecureString(std::string_view(text)), loop.collect());
    assert_int_equal(loop.run(10s), 0);
    assert_true(loop.results[0].accepted);
    json record = fake->messages()[0];
    assert_string_equal(record["form"]["Body"].get<std::string>().c_str(), text);
    assert_string_equal(record["form"]["MessagingServiceSid"].get<std::string>().c_str(),
                        "MG0123456789abcdef0123456789abcdef");
    assert_false(record["form"].contains("From"));
}

void wrong_token_is_final(void**) {
    TwilioSettings s = settings_for_fake();
    s.auth_token = SecureString(std::string_view("not-the-token"));
    SmsResult r = send_one(std::move(s));
    assert_false(r.accepted);
    assert_int_equal(r.http_status, 401);
    assert_int_equal(r.twilio_code, 20003);
    assert_int_equal(r.attempts, 1);
    assert_string_equal(r.message.c_str(), "Authenticate");
    assert_int_equal(fake->messages().size(), 1);
}

void invalid_number_is_final_and_masked(void**) {
    SmsResult r = send_one(settings_for_fake(), "15551234567");
    assert_false(r.accepted);
    assert_int_equal(r.http_status, 400);
    assert_int_equal(r.twilio_code, 21211);
    assert_int_equal(r.attempts, 1);
    assert_false(contains(r.message, "15551234567"));
    assert_true(contains(r.message, "*******4567"));
    assert_true(contains(r.message, "is not a valid phone number"));
    assert_int_equal(fake->messages().size(), 1);
}

void too_many_requests_then_success_honours_retry_after(void**) {
    fake->behave({{"status", 429}, {"retry_after", 1}, {"times", 1}});
    long took = 0;
    SmsResult r = send_one(settings_for_fake(), kTo, &took);
    assert_true(r.accepted);
    assert_int_equal(r.attempts, 2);
    // The backoff alone would have waited 25 to 50 ms.
    assert_true(took >= 1000);
    json records = fake->messages();
    assert_int_equal(records.size(), 2);
    double gap = records[1]["time"].get<double>() - records[0]["time"].get<double>();
    assert_true(gap >= 0.95);
    std::printf("429 then 201: %ld ms, %.3f s between attempts\n", took, gap);
}

void unavailable_twice_then_success(void**) {
    fake->behave({{"status", 503}, {"times", 2}});
    SmsResult r = send_one(settings_for_fake());
    assert_true(r.accepted);
    assert_int_equal(r.attempts, 3);
    assert_true((recorded_statuses() == std::vector<long>{503, 503, 201}));
}

// After a 500, 502 or 504 Twilio may have queued the text: it is not sent again.
void server_error_is_not_retried(void**) {
    for (int status : {500, 502, 504}) {
        fake->reset();
        fake->behave({{"status", status}});
        SmsResult r = send_one(settings_for_fake());
        assert_false(r.accepted);
        assert_true(r.may_arrive);
        assert_int_equal(r.attempts, 1);
        assert_int_equal(r.http_status, status);
        assert_int_equal(fake->messages().size(), 1);
    }
}

void unavailable_forever_stops_at_the_deadline(void**) {
    fake->behave({{"status", 503}});
    TwilioSettings s = settings_for_fake();
    s.max_attempts = 100;
    s.deadline = 700ms;
    s.backoff_initial = 100ms;
    s.backoff_max = 100ms;
    long took = 0;
    SmsResult r = send_one(s, kTo, &took);
    assert_false(r.accepted);
    assert_false(r.may_arrive);
    assert_int_equal(r.http_status, 503);
    // Waits of 50 to 100 ms in 700 ms: at least 3 attempts, far fewer than 100.
    assert_true(r.attempts >= 3 && r.attempts < 20);
    assert_int_equal(fake->messages().size(), r.attempts);
    // The last attempt started before the deadline and answered at once.
    assert_true(took < s.deadline.count() + 300);
    std::printf("503 until the deadline: %d attempts in %ld ms\n", r.attempts, took);
}

void retry_after_beyond_the_deadline_gives_up_at_once(void**) {
    fake->behave({{"status", 429}, {"retry_after", 30}});
    TwilioSettings s = settings_for_fake();
    s.deadline = 2000ms;
    long took = 0;
    SmsResult r = send_one(s, kTo, &took);
    assert_false(r.accepted);
    assert_int_equal(r.http_status, 429);
    assert_int_equal(r.attempts, 1);
    assert_true(took < 1000);
}

void connection_refused_is_retried_then_reported(void**) {
    RefusingPort refusing;
    TwilioSettings s = settings_for_fake();
    s.api_url = "http://127.0.0.1:" + std::to_string(refusing.port);
    s.max_attempts = 3;
    SmsResult r = send_one(s);
    assert_false(r.accepted);
    assert_int_equal(r.http_status, 0);
    assert_int_equal(r.attempts, 3);
    assert_false(r.may_arrive);
    assert_true(contains(r.message, "Could not reach Twilio"));
    assert_true(contains(r.message, "onnect"));
    std::printf("refused: %s\n", r.message.c_str());
}

// The request went out and no answer came: Twilio may have taken it, so it is not sent again.
void slow_answer_times_out_once_sent(void**) {
    fake->behave({{"delay_ms", 1500}});
    TwilioSettings s = settings_for_fake();
    s.request_timeout = 300ms;
    s.max_attempts = 2;
    long took = 0;
    SmsResult r = send_one(s, kTo, &took);
    assert_false(r.accepted);
    assert_true(r.may_arrive);
    assert_int_equal(r.http_status, 0);
    assert_int_equal(r.attempts, 1);
    assert_string_equal(r.message.c_str(), "Twilio did not answer within 300 ms");
    assert_true(took >= 300 && took < 1000);
    assert_int_equal(fake->messages().size(), 1);
}

void attempt_timeout_is_cut_to_the_deadline(void**) {
    fake->behave({{"delay_ms", 3000}});
    TwilioSettings s = settings_for_fake();
    s.request_timeout = 5000ms;
    s.deadline = 500ms;
    long took = 0;
    SmsResult r = send_one(s, kTo, &took);
    assert_int_equal(r.attempts, 1);
    // The attempt got what was left of the 500 ms deadline, not the 5 s request timeout.
    const std::string prefix = "Twilio did not answer within ";
    assert_true(r.message.starts_with(prefix) && r.message.ends_with(" ms"));
    int limit_ms = std::stoi(r.message.substr(prefix.size()));
    assert_true(limit_ms > 400 && limit_ms <= 500);
    assert_true(took >= 450 && took < 1500);
}

void dropped_connection_once_sent_is_not_retried(void**) {
    fake->behave({{"close", true}});
    TwilioSettings s = settings_for_fake();
    s.max_attempts = 2;
    SmsResult r = send_one(s);
    assert_false(r.accepted);
    assert_true(r.may_arrive);
    assert_int_equal(r.attempts, 1);
    assert_string_equal(r.message.c_str(), "Twilio closed the connection without answering");
}

void ten_slow_messages_run_concurrently(void**) {
    fake->behave({{"delay_ms", 300}});
    Loop loop;
    loop.expected = 10;
    TwilioClient client(loop.loop, settings_for_fake());
    auto started = Clock::now();
    for (int i = 0; i < 10; ++i) {
        client.send("+1500555000" + std::to_string(i), SecureString(std::string_view(kText)),
                    loop.collect());
    }
    assert_int_equal(client.in_flight(), 10);
    assert_int_equal(loop.run(20s), 0);
    long took = elapsed_ms(started);
    std::set<std::string> sids;
    for (const auto& r : loop.results) {
        assert_true(r.accepted);
        assert_int_equal(r.attempts, 1);
        sids.insert(r.sid);
    }
    assert_int_equal(sids.size(), 10);
    assert_int_equal(fake->messages().size(), 10);
    // One after the other would take 3 s.
    assert_true(took < 2000);
    std::printf("10 messages answered after 300 ms each: %ld ms in all\n", took);
}

void body_that_is_not_json(void**) {
    fake->behave({{"status", 500}, {"body", "<html>oops</html>"}});
    TwilioSettings s = settings_for_fake();
    s.max_attempts = 1;
    SmsResult r = send_one(s);
    assert_false(r.accepted);
    assert_int_equal(r.http_status, 500);
    assert_int_equal(r.twilio_code, 0);
    assert_string_equal(r.message.c_str(), "Twilio answered 500 with a body that is not JSON");
}

void created_without_json_is_not_accepted_nor_retried(void**) {
    fake->behave({{"status", 201}, {"body", "queued, probably"}});
    SmsResult r = send_one(settings_for_fake());
    assert_false(r.accepted);
    assert_int_equal(r.attempts, 1);
    assert_string_equal(r.message.c_str(), "Twilio answered 201 with a body that is not JSON");
}

void huge_body_is_refused(void**) {
    std::string huge(100000, 'x');
    for (bool chunked : {false, true}) {
        fake->reset();
        // 503 would be retried if it were read; a body this size is not.
        fake->behave({{"status", 503}, {"body", huge}, {"chunked", chunked}});
        SmsResult r = send_one(settings_for_fake());
        assert_false(r.accepted);
        assert_int_equal(r.http_status, 503);
        assert_int_equal(r.attempts, 1);
        assert_string_equal(r.message.c_str(),
                            "Twilio answered 503 with a body over 64 KiB, which was not read");
    }
}

void bad_settings_are_reported_from_the_loop(void**) {
    struct Case {
        void (*change)(TwilioSettings&);
        const char* expected;
    };
    const Case cases[] = {
        {[](TwilioSettings& s) { s.api_url = "http://192.0.2.1"; }, "not a loopback address"},
        {[](TwilioSettings& s) { s.account_sid.clear(); }, "account_sid is not set"},
        {[](TwilioSettings& s) { s.auth_token = SecureString(); },
         "neither a Twilio API key nor the auth_token"},
        {[](TwilioSettings& s) { s.api_key_sid = "SK0123456789abcdef0123456789abcdef"; },
         "the Twilio API key's secret is not set"},
        {[](TwilioSettings& s) { s.ca_file = "/nonexistent/ca.pem"; },
         "ca_file /nonexistent/ca.pem: No such file"},
        {[](TwilioSettings& s) { s.from.clear(); }, "neither the Twilio from number"},
    };
    for (const auto& c : cases) {
        TwilioSettings s = settings_for_fake();
        c.change(s);
        SmsResult r = send_one(std::move(s));
        assert_false(r.accepted);
        assert_int_equal(r.attempts, 0);
        assert_true(contains(r.message, c.expected));
    }
    assert_int_equal(fake->messages().size(), 0);
}

void absurd_durations_are_bounded(void**) {
    TwilioSettings s = settings_for_fake();
    s.deadline = std::chrono::milliseconds::max();
    s.backoff_initial = std::chrono::milliseconds::max();
    s.backoff_max = std::chrono::milliseconds::max();
    SmsResult r = send_one(std::move(s));
    assert_true(r.accepted);
    assert_int_equal(r.attempts, 1);
}

void destructor_cancels_without_callbacks(void**) {
    fake->behave({{"delay_ms", 1000}});
    Loop loop;
    auto client = std::make_unique<TwilioClient>(loop.loop, settings_for_fake());
    client->send(kTo, SecureString(std::string_view(kText)), loop.collect());
    client->send(kTo, SecureString(std::string_view(kText)), loop.collect());
    std::size_t pending_before = 0;
    std::function<void()> destroy = [&] {
        pending_before = client->in_flight();
        client.reset();
    };
    loop.at(200ms, &destroy);
    assert_int_equal(loop.run(1500ms), -ETIMEDOUT);
    assert_int_equal(pending_before, 2);
    assert_true(loop.results.empty());
}

void callback_may_destroy_the_client(void**) {
    Loop loop;
    auto client = std::make_unique<TwilioClient>(loop.loop, settings_for_fake());
    int calls = 0;
    auto destroy_on_first = [&](const SmsResult&) {
        ++calls;
        client.reset();
    };
    client->send(kTo, SecureString(std::string_view(kText)), destroy_on_first);
    client->send(kTo, SecureString(std::string_view(kText)), destroy_on_first);
    assert_int_equal(loop.run(1500ms), -ETIMEDOUT);
    assert_int_equal(calls, 1);
    assert_null(client.get());
}

void callback_may_send_again(void**) {
    Loop loop;
    loop.expected = 2;
    TwilioClient client(loop.loop, settings_for_fake());
    auto collect = loop.collect();
    client.send(kTo, SecureString(std::string_view(kText)), [&](const SmsResult& first) {
        collect(first);
        client.send(kTo, SecureString(std::string_view(kText)), collect);
    });
    assert_int_equal(loop.run(10s), 0);
    assert_true(loop.results[0].accepted && loop.results[1].accepted);
    assert_int_equal(fake->messages().size(), 2);
}

int start_endpoint(void**) {
    try {
        fake = new FakeTwilio();
    } catch (const std::exception& e) {
        std::fprintf(stderr, "%s\n", e.what());
        return -1;
    }
    return 0;
}

int stop_endpoint(void**) {
    delete fake;
    fake = nullptr;
    return 0;
}

int reset_endpoint(void**) {
    fake->reset();
    return 0;
}

}  // namespace

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(accepted_with_the_right_form, reset_endpoint),
        cmocka_unit_test_setup(api_key_signs_the_request, reset_endpoint),
        cmocka_unit_test_setup(user_agent_names_the_version, reset_endpoint),
        cmocka_unit_test_setup(validity_period_and_budget, reset_endpoint),
        cmocka_unit_test_setup(verify_start_and_check, reset_endpoint),
        cmocka_unit_test_setup(a_call_is_placed_with_its_twiml, reset_endpoint),
        cmocka_unit_test_setup(a_call_needs_a_from_number, reset_endpoint),
        cmocka_unit_test_setup(messaging_service_and_escaping, reset_endpoint),
        cmocka_unit_test_setup(wrong_token_is_final, reset_endpoint),
        cmocka_unit_test_setup(invalid_number_is_final_and_masked, reset_endpoint),
        cmocka_unit_test_setup(too_many_requests_then_success_honours_retry_after, reset_endpoint),
        cmocka_unit_test_setup(unavailable_twice_then_success, reset_endpoint),
        cmocka_unit_test_setup(server_error_is_not_retried, reset_endpoint),
        cmocka_unit_test_setup(unavailable_forever_stops_at_the_deadline, reset_endpoint),
        cmocka_unit_test_setup(retry_after_beyond_the_deadline_gives_up_at_once, reset_endpoint),
        cmocka_unit_test_setup(connection_refused_is_retried_then_reported, reset_endpoint),
        cmocka_unit_test_setup(slow_answer_times_out_once_sent, reset_endpoint),
        cmocka_unit_test_setup(attempt_timeout_is_cut_to_the_deadline, reset_endpoint),
        cmocka_unit_test_setup(dropped_connection_once_sent_is_not_retried, reset_endpoint),
        cmocka_unit_test_setup(ten_slow_messages_run_concurrently, reset_endpoint),
        cmocka_unit_test_setup(body_that_is_not_json, reset_endpoint),
        cmocka_unit_test_setup(created_without_json_is_not_accepted_nor_retried, reset_endpoint),
        cmocka_unit_test_setup(huge_body_is_refused, reset_endpoint),
        cmocka_unit_test_setup(bad_settings_are_reported_from_the_loop, reset_endpoint),
        cmocka_unit_test_setup(absurd_durations_are_bounded, reset_endpoint),
        cmocka_unit_test_setup(destructor_cancels_without_callbacks, reset_endpoint),
        cmocka_unit_test_setup(callback_may_destroy_the_client, reset_endpoint),
        cmocka_unit_test_setup(callback_may_send_again, reset_endpoint),
    };
    return cmocka_run_group_tests(tests, start_endpoint, stop_endpoint);
}
