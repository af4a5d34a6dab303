// SPDX-License-Identifier: BSD-2-Clause
// The conversion of texted challenges (Twilio's sign of SMS pumping), judged only over
// challenges that are over, alarmed at most once an hour; and the once-a-minute journal line
// of a budget's refusals.
#include <csetjmp>
#include <cstdarg>
#include <cstddef>
#include <cstdint>
#include <string>

#include "daemon/service/service.h"
#include "daemon/service/sms_watch.h"

// cmocka last: its fail() macro would break the C++ headers.
extern "C" {
#include <cmocka.h>
}

using twofactor::SmsWatch;

static void twenty_of_a_hundred_completed_alarm_once(void**) {
    SmsWatch watch;
    for (int i = 0; i < 100; ++i) watch.texted("c" + std::to_string(i), 1300);
    for (int i = 0; i < 20; ++i) watch.completed("c" + std::to_string(i));
    // Still open: 80 may yet be completed; nothing is judged but the 20 completed.
    assert_false(watch.alarm(1000).has_value());
    assert_int_equal(watch.conversion(1000).judged, 20);
    auto low = watch.alarm(1300);
    assert_true(low.has_value());
    assert_int_equal(low->judged, 100);
    assert_int_equal(low->completed, 20);
    assert_false(watch.alarm(1301).has_value());         // once
    assert_false(watch.alarm(1300 + 3599).has_value());  // within the hour
    assert_true(watch.alarm(1300 + 3600).has_value());   // an hour later, still low
}

static void thirty_of_a_hundred_is_no_alarm(void**) {
    SmsWatch watch;
    for (int i = 0; i < 100; ++i) watch.texted("c" + std::to_string(i), 1300);
    for (int i = 0; i < 30; ++i) watch.completed("c" + std::to_string(i));
    assert_false(watch.alarm(2000).has_value());
    // Fewer than 100 over: nothing to judge yet.
    SmsWatch young;
    for (int i = 0; i < 99; ++i) young.texted("c" + std::to_string(i), 1300);
    assert_false(young.alarm(2000).has_value());
}

static void the_window_is_the_last_hundred(void**) {
    SmsWatch watch;
    // 100 good ones, then 100 bad ones: the bad ones are the window.
    for (int i = 0; i < 100; ++i) {
        watch.texted("good" + std::to_string(i), 1300);
        watch.completed("good" + std::to_string(i));
    }
    for (int i = 0; i < 100; ++i) watch.texted("bad" + std::to_string(i), 1300);
    auto c = watch.conversion(2000);
    assert_int_equal(c.judged, 100);
    assert_int_equal(c.completed, 0);
    assert_true(watch.alarm(2000).has_value());
}

static void a_refusal_is_journalled_once_a_minute_per_budget(void**) {
    SmsWatch watch;
    assert_true(watch.journal_refusal("prefix:+1202555", 100));
    assert_false(watch.journal_refusal("prefix:+1202555", 130));
    assert_true(watch.journal_refusal("prefix:+1303555", 130));
    assert_true(watch.journal_refusal("prefix:+1202555", 160));
}

static void a_prefix_is_the_number_without_its_last_four_digits(void**) {
    assert_string_equal(twofactor::number_prefix("+12025550123").c_str(), "+1202555");
    assert_string_equal(twofactor::number_prefix("+447700900123").c_str(), "+44770090");
}

int main() {
    const CMUnitTest tests[] = {
        cmocka_unit_test(twenty_of_a_hundred_completed_alarm_once),
        cmocka_unit_test(thirty_of_a_hundred_is_no_alarm),
        cmocka_unit_test(the_window_is_the_last_hundred),
        cmocka_unit_test(a_refusal_is_journalled_once_a_minute_per_budget),
        cmocka_unit_test(a_prefix_is_the_number_without_its_last_four_digits),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
