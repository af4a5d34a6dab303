// SPDX-License-Identifier: BSD-2-Clause
// The Twilio client's pure parts: reading answers, the retry policy, curl failures, api_url.
#include <chrono>
#include <csetjmp>
#include <cstdarg>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>

// cmocka.h has no extern "C" guard of its own.
extern "C" {
#include <cmocka.h>
}

#include "daemon/twilio/curl_failure.h"
#include "daemon/twilio/retry_policy.h"
#include "daemon/twilio/twilio.h"
#include "daemon/twilio/twilio_answer.h"
#include "daemon/twilio/twiml.h"

using namespace std::chrono_literals;
using twofactor::parse_twilio_answer;
using twofactor::SmsResult;

namespace {

void assert_message(const SmsResult& r, const char* expected) {
    assert_false(r.accepted);
    assert_string_equal(r.message.c_str(), expected);
}

// --- parse_twilio_answer -------------------------------------------------------------------

void created_with_sid_is_accepted(void**) {
    SmsResult r =
        parse_twilio_answer(201, R"({"sid":"SM0123456789abcdef0123456789abcdef","status":"queued",
                 "body":"Your code is 123456","subresource_uris":{"sid":"nested"}})");
    assert_true(r.accepted);
    assert_int_equal(r.http_status, 201);
    assert_string_equal(r.sid.c_str(), "SM0123456789abcdef0123456789abcdef");
    assert_int_equal(r.twilio_code, 0);
    assert_int_equal(r.attempts, 0);
    assert_true(r.message.empty());
}

void created_without_a_usable_sid(void**) {
    assert_message(parse_twilio_answer(201, R"({"status":"queued"})"),
                   "Twilio answered 201 without a message sid");
    assert_message(parse_twilio_answer(201, R"({"sid":42})"),
                   "Twilio answered 201 with a message sid that is not valid");
    assert_message(parse_twilio_answer(201, R"({"sid":"SM../../etc"})"),
                   "Twilio answered 201 with a message sid that is not valid");
    assert_message(parse_twilio_answer(201, R"({"sid":""})"),
                   "Twilio answered 201 with a message sid that is not valid");
    // Only a top-level sid counts.
    assert_message(parse_twilio_answer(201, R"({"x":{"sid":"SMabc"}})"),
                   "Twilio answered 201 without a message sid");
    assert_message(parse_twilio_answer(201, R"(["sid","SMabc"])"),
                   "Twilio answered 201 with JSON that is not an object");
}

void twilio_error_is_read(void**) {
    SmsResult r = parse_twilio_answer(
        400, R"({"code":21614,"message":"'To' number is not a valid mobile number",
                 "more_info":"https://www.twilio.com/docs/errors/21614","status":400})");
    assert_int_equal(r.http_status, 400);
    assert_int_equal(r.twilio_code, 21614);
    assert_message(r, "'To' number is not a valid mobile number");
}

void error_fields_of_the_wrong_type(void**) {
    SmsResult r = parse_twilio_answer(400, R"({"code":"21211","message":["a"]})");
    assert_int_equal(r.twilio_code, 0);
    assert_message(r, "Twilio answered 400 with an error message that is not text");

    r = parse_twilio_answer(500, R"({"code":21211.5,"message":null})");
    assert_int_equal(r.twilio_code, 0);
    assert_message(r, "Twilio answered 500 with an error message that is not text");

    r = parse_twilio_answer(500, R"({"code":99999999999,"message":{"x":1}})");
    assert_int_equal(r.twilio_code, 0);

    r = parse_twilio_answer(500, R"({"code":-3})");
    assert_int_equal(r.twilio_code, 0);
    assert_message(r, "Twilio answered 500 without an error message");

    r = parse_twilio_answer(429, R"({"code":20429,"message":""})");
    assert_int_equal(r.twilio_code, 20429);
    assert_message(r, "Twilio answered 429 without an error message");
}

void bodies_that_are_not_json(void**) {
    assert_message(parse_twilio_answer(500, "<html>oops</html>"),
                   "Twilio answered 500 with a body that is not JSON");
    assert_message(parse_twilio_answer(503, ""), "Twilio answered 503 with an empty body");
    assert_message(parse_twilio_answer(400, "{\"message\":\"a\"} trailing"),
                   "Twilio answered 400 with a body that is not JSON");
    assert_message(parse_twilio_answer(400, "{\"message\":\"\xff\xfe\"}"),
                   "Twilio answered 400 with a body that is not JSON");
    assert_message(parse_twilio_answer(400, std::string_view("{\"a\":\0}", 7)),
                   "Twilio answered 400 with a body that is not JSON");
    assert_message(parse_twilio_answer(500, "\"just a string\""),
                   "Twilio answered 500 with JSON that is not an object");
    assert_message(parse_twilio_answer(500, "12"),
                   "Twilio answered 500 with JSON that is not an object");
}

void deep_and_huge_input_does_not_crash(void**) {
    std::string deep(200000, '[');
    assert_message(parse_twilio_answer(500, deep),
                   "Twilio answered 500 with a body that is not JSON");
    std::string nested = std::string(50000, '[') + std::string(50000, ']');
    assert_message(parse_twilio_answer(500, nested),
                   "Twilio answered 500 with JSON that is not an object");
    std::string deep_value = R"({"message":"m","x":)" + nested + "}";
    assert_message(parse_twilio_answer(500, deep_value), "m");

    std::string long_message = R"({"code":1,"message":")" + std::string(100000, 'a') + "\"}";
    SmsResult r = parse_twilio_answer(400, long_message);
    assert_int_equal(r.message.size(), twofactor::kMaxTwilioText);
    assert_int_equal(r.twilio_code, 1);
}

void statuses_that_are_not_answers(void**) {
    SmsResult r = parse_twilio_answer(200, R"({"sid":"SM1"})");
    assert_int_equal(r.http_status, 200);
    assert_message(
        r, "Twilio answered 200 instead of 201 Created: the message may not have been queued");
    assert_message(parse_twilio_answer(302, ""),
                   "Twilio answered 302, which the Messages API never answers (redirects are not "
                   "followed)");
    r = parse_twilio_answer(0, "");
    assert_int_equal(r.http_status, 0);
    assert_message(r, "Twilio gave no valid HTTP status");
    assert_message(parse_twilio_answer(100000, "{}"), "Twilio gave no valid HTTP status");
    assert_message(parse_twilio_answer(-1, "{}"), "Twilio gave no valid HTTP status");
}

void sanitizing_masks_numbers_and_controls(void**) {
    using twofactor::sanitize_twilio_text;
    assert_string_equal(sanitize_twilio_text("The 'To' number +15005550006 is not valid.").c_str(),
                        "The 'To' number +*******0006 is not valid.");
    assert_string_equal(sanitize_twilio_text("error 21211 in 123456").c_str(),
                        "error 21211 in 123456");
    assert_string_equal(sanitize_twilio_text("line\nbreak\x1b[31m\x7f").c_str(),
                        "line break [31m ");
    // A cut never leaves half a UTF-8 character.
    std::string accents;
    for (int i = 0; i < 200; ++i) accents += "\xc3\xa9";
    std::string cut = sanitize_twilio_text("a" + accents);
    assert_int_equal(cut.size(), twofactor::kMaxTwilioText - 1);
    assert_true((static_cast<unsigned char>(cut.back()) & 0xC0) == 0x80);
    // ...and keeps a whole one.
    assert_int_equal(sanitize_twilio_text("aa" + accents).size(), twofactor::kMaxTwilioText);
    std::string euro = "a";
    for (int i = 0; i < 120; ++i) euro += "\xe2\x82\xac";
    assert_int_equal(sanitize_twilio_text(euro).size(), 298);  // 'a' + 99 whole euro signs
    // The number is masked by the parser too.
    SmsResult r = parse_twilio_answer(400, R"({"code":21211,"message":"To +447700900123 bad"})");
    assert_string_equal(r.message.c_str(), "To +********0123 bad");
}

// --- retry policy --------------------------------------------------------------------------

// Only what Twilio did not take is sent again: 429 and 503. After a 500, 502 or 504 the text
// may be on its way; another attempt could text the user twice.
void retryable_statuses(void**) {
    using twofactor::is_retryable_status;
    using twofactor::may_have_been_taken;
    for (long status : {429L, 503L}) {
        assert_true(is_retryable_status(status));
        assert_false(may_have_been_taken(status));
    }
    for (long status : {500L, 502L, 504L, 599L}) {
        assert_false(is_retryable_status(status));
        assert_true(may_have_been_taken(status));
    }
    for (long status : {0L, 200L, 201L, 301L, 400L, 401L, 403L, 404L, 428L, 430L, 600L}) {
        assert_false(is_retryable_status(status));
        assert_false(may_have_been_taken(status));
    }
}

void retry_after_values(void**) {
    using twofactor::parse_retry_after;
    assert_true(parse_retry_after("2") == std::optional(2s));
    assert_true(parse_retry_after(" 0 \r\n") == std::optional(0s));
    assert_true(parse_retry_after("999999999999999999999999") == twofactor::kMaxRetryAfter);
    assert_true(parse_retry_after("7200") == twofactor::kMaxRetryAfter);
    assert_false(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT").has_value());
    assert_false(parse_retry_after("").has_value());
    assert_false(parse_retry_after("-1").has_value());
    assert_false(parse_retry_after("1.5").has_value());
}

void backoff_doubles_up_to_the_cap_with_jitter(void**) {
    using twofactor::retry_delay;
    // jitter 1: the full backoff.
    assert_int_equal(retry_delay(1, 500ms, 4000ms, std::nullopt, 1.0).count(), 500);
    assert_int_equal(retry_delay(2, 500ms, 4000ms, std::nullopt, 1.0).count(), 1000);
    assert_int_equal(retry_delay(3, 500ms, 4000ms, std::nullopt, 1.0).count(), 2000);
    assert_int_equal(retry_delay(4, 500ms, 4000ms, std::nullopt, 1.0).count(), 4000);
    assert_int_equal(retry_delay(50, 500ms, 4000ms, std::nullopt, 1.0).count(), 4000);
    assert_int_equal(retry_delay(1000000, 500ms, 4000ms, std::nullopt, 1.0).count(), 4000);
    // jitter 0: half of it; anything between stays between.
    assert_int_equal(retry_delay(2, 500ms, 4000ms, std::nullopt, 0.0).count(), 500);
    auto middle = retry_delay(2, 500ms, 4000ms, std::nullopt, 0.5).count();
    assert_true(middle > 500 && middle < 1000);
    // Out-of-range jitter is clamped, not trusted.
    assert_int_equal(retry_delay(2, 500ms, 4000ms, std::nullopt, 7.0).count(), 1000);
    assert_int_equal(retry_delay(2, 500ms, 4000ms, std::nullopt, -1.0).count(), 500);
    // Odd settings: an initial above the cap, and zero or negative durations.
    assert_int_equal(retry_delay(1, 9000ms, 4000ms, std::nullopt, 1.0).count(), 4000);
    assert_int_equal(retry_delay(3, 0ms, 4000ms, std::nullopt, 1.0).count(), 0);
    assert_int_equal(retry_delay(3, -5ms, -5ms, std::nullopt, 1.0).count(), 0);
    // Huge durations do not overflow.
    auto big = std::chrono::milliseconds(INT64_MAX / 3);
    assert_int_equal(retry_delay(60, big, big * 2, std::nullopt, 1.0).count(), (big * 2).count());
}

void retry_after_is_a_floor(void**) {
    using twofactor::retry_delay;
    assert_int_equal(retry_delay(1, 500ms, 4000ms, 2s, 1.0).count(), 2000);
    assert_int_equal(retry_delay(4, 500ms, 4000ms, 1s, 1.0).count(), 4000);
    assert_int_equal(retry_delay(1, 500ms, 4000ms, 0s, 1.0).count(), 500);
}

// --- curl failures -------------------------------------------------------------------------

void curl_failures(void**) {
    using twofactor::describe_curl_failure;
    using twofactor::is_transient_curl_error;
    assert_true(is_transient_curl_error(CURLE_COULDNT_CONNECT));
    assert_true(is_transient_curl_error(CURLE_OPERATION_TIMEDOUT));
    assert_true(is_transient_curl_error(CURLE_GOT_NOTHING));
    assert_true(is_transient_curl_error(CURLE_COULDNT_RESOLVE_HOST));
    assert_false(is_transient_curl_error(CURLE_PEER_FAILED_VERIFICATION));
    assert_false(is_transient_curl_error(CURLE_WRITE_ERROR));
    assert_false(is_transient_curl_error(CURLE_UNSUPPORTED_PROTOCOL));
    assert_false(is_transient_curl_error(CURLE_OK));

    // Before the request went out, a transient failure is retried; after, never.
    using twofactor::is_retryable_curl_failure;
    assert_true(is_retryable_curl_failure(CURLE_COULDNT_CONNECT, false));
    assert_true(is_retryable_curl_failure(CURLE_SSL_CONNECT_ERROR, false));
    assert_true(is_retryable_curl_failure(CURLE_OPERATION_TIMEDOUT, false));
    assert_false(is_retryable_curl_failure(CURLE_OPERATION_TIMEDOUT, true));
    assert_false(is_retryable_curl_failure(CURLE_GOT_NOTHING, true));
    assert_false(is_retryable_curl_failure(CURLE_PEER_FAILED_VERIFICATION, false));

    assert_string_equal(describe_curl_failure(CURLE_OPERATION_TIMEDOUT, "x", 250ms).c_str(),
                        "Twilio did not answer within 250 ms");
    assert_string_equal(
        describe_curl_failure(CURLE_COULDNT_CONNECT, "Failed to connect", 1ms).c_str(),
        "Could not reach Twilio: Failed to connect");
    assert_string_equal(describe_curl_failure(CURLE_COULDNT_CONNECT, "", 1ms).c_str(),
                        "Could not reach Twilio: Couldn't connect to server");
    assert_string_equal(describe_curl_failure(CURLE_GOT_NOTHING, nullptr, 1ms).c_str(),
                        "Twilio closed the connection without answering");
    assert_true(describe_curl_failure(CURLE_PEER_FAILED_VERIFICATION, "bad cert", 1ms)
                    .starts_with("Twilio's TLS certificate could not be verified"));
}

// --- check_api_url -------------------------------------------------------------------------

void acceptable_urls(void**) {
    using twofactor::check_api_url;
    for (const char* url :
         {"https://api.twilio.com", "https://api.twilio.com/", "HTTPS://api.twilio.com:443/x",
          "https://10.0.0.1:8443", "https://[2001:db8::1]", "http://127.0.0.1:8080",
          "http://127.255.255.254", "http://localhost:1234/", "http://LocalHost",
          "http://[::1]:9000", "http://[0:0:0:0:0:0:0:1]", "HTTP://127.0.0.1"}) {
        auto problem = check_api_url(url);
        if (problem) std::fprintf(stderr, "%s: %s\n", url, problem->c_str());
        assert_false(problem.has_value());
    }
}

void refused_urls(void**) {
    using twofactor::check_api_url;
    struct Case {
        const char* url;
        const char* why;
    };
    const Case cases[] = {
        {"", "api_url is empty"},
        {"api.twilio.com", "must start with https://"},
        {"ftp://api.twilio.com", "must start with https://"},
        {"file:///etc/passwd", "must start with https://"},
        {"http://api.twilio.com", "not a loopback address"},
        {"http://10.0.0.1", "not a loopback address"},
        {"http://127.0.0.1.evil.example", "not a loopback address"},
        {"http://localhost.evil.example", "not a loopback address"},
        {"http://0177.0.0.1", "not a loopback address"},
        {"http://0127.0.0.1", "not a loopback address"},
        {"http://127.1", "not a loopback address"},
        {"http://127.0.0.256", "not a loopback address"},
        {"http://[::ffff:127.0.0.1]", "not a loopback address"},
        {"http://[::2]", "not a loopback address"},
        {"http://user:pw@127.0.0.1", "user name or password"},
        {"https://user@api.twilio.com", "user name or password"},
        {"https://api.twilio.com?x=1", "query or a fragment"},
        {"https://api.twilio.com/#x", "query or a fragment"},
        {"https://api.twilio.com /x", "space or a control character"},
        {"https://api.twilio.com\n", "space or a control character"},
        {"https://", "no host name"},
        {"https://:443", "no host name"},
        {"http://[]", "no host name"},
        {"http://[::1", "without its ']'"},
        {"http://127.0.0.1:0", "port"},
        {"http://127.0.0.1:65536", "port"},
        {"http://127.0.0.1:", "port"},
        {"http://127.0.0.1:80x", "port"},
        {"http://[::1]x", "port"},
    };
    for (const auto& c : cases) {
        auto problem = check_api_url(c.url);
        if (!problem || problem->find(c.why) == std::string::npos) {
            std::fprintf(stderr, "%s: %s\n", c.url, problem ? problem->c_str() : "accepted");
        }
        assert_true(problem.has_value());
        assert_non_null(std::strstr(problem->c_str(), c.why));
    }
}

// --- the TwiML of a call -------------------------------------------------------------------

std::size_t occurrences(const std::string& text, const std::string& part) {
    std::size_t count = 0;
    for (auto at = text.find(part); at != std::string::npos; at = text.find(part, at + 1)) ++count;
    return count;
}

void twiml_reads_the_digits_twice(void**) {
    const std::string twiml(twofactor::code_reading_twiml("Your code is", "123456").view());
    assert_string_equal(twiml.c_str(),
                        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response>"
                        "<Say>Your code is</Say>"
                        "<Say>1, 2, 3, 4, 5, 6.</Say>"
                        "<Pause length=\"1\"/>"
                        "<Say>Again: 1, 2, 3, 4, 5, 6.</Say>"
                        "</Response>");
    // Leading zeros are digits like any other: never read as a shorter number.
    const std::string zeros(twofactor::code_reading_twiml("Code", "004200").view());
    assert_int_equal(occurrences(zeros, "0, 0, 4, 2, 0, 0."), 2);
    assert_int_equal(occurrences(zeros, "004200"), 0);
}

void twiml_escapes_what_it_says(void**) {
    assert_string_equal(twofactor::xml_escape(R"(a<b>&"c'd)").c_str(),
                        "a&lt;b&gt;&amp;&quot;c&apos;d");
    assert_string_equal(twofactor::xml_escape("plain 123").c_str(), "plain 123");
    assert_string_equal(twofactor::xml_escape("").c_str(), "");
    const std::string twiml(twofactor::code_reading_twiml("</Say><Hangup/><Say>", "1<&").view());
    assert_int_equal(occurrences(twiml, "<Hangup/>"), 0);
    assert_int_equal(occurrences(twiml, "<Say>"), 3);
    assert_int_equal(occurrences(twiml, "</Say>"), 3);
    assert_non_null(std::strstr(twiml.c_str(), "&lt;/Say&gt;&lt;Hangup/&gt;&lt;Say&gt;"));
    assert_int_equal(occurrences(twiml, "1, &lt;, &amp;."), 2);
}

}  // namespace

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(twiml_reads_the_digits_twice),
        cmocka_unit_test(twiml_escapes_what_it_says),
        cmocka_unit_test(created_with_sid_is_accepted),
        cmocka_unit_test(created_without_a_usable_sid),
        cmocka_unit_test(twilio_error_is_read),
        cmocka_unit_test(error_fields_of_the_wrong_type),
        cmocka_unit_test(bodies_that_are_not_json),
        cmocka_unit_test(deep_and_huge_input_does_not_crash),
        cmocka_unit_test(statuses_that_are_not_answers),
        cmocka_unit_test(sanitizing_masks_numbers_and_controls),
        cmocka_unit_test(retryable_statuses),
        cmocka_unit_test(retry_after_values),
        cmocka_unit_test(backoff_doubles_up_to_the_cap_with_jitter),
        cmocka_unit_test(retry_after_is_a_floor),
        cmocka_unit_test(curl_failures),
        cmocka_unit_test(acceptable_urls),
        cmocka_unit_test(refused_urls),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
