// SPDX-License-Identifier: BSD-2-Clause
// What a text says: the placeholders, the values cut to a safe shape, and the one-segment check
// made when the configuration loads.
#include <csetjmp>
#include <cstdarg>
#include <cstddef>
#include <cstdint>
#include <string>

#include "daemon/service/message_template.h"

// cmocka last: its fail() macro would break the C++ headers.
extern "C" {
#include <cmocka.h>
}

namespace mt = twofactor::message_template;

static void the_default_names_the_code_first_then_service_and_host(void**) {
    assert_false(mt::check(mt::kDefault).has_value());
    assert_string_equal(mt::render(mt::kDefault, "123456", "sshd", "web1").c_str(),
                        "123456 is your code for sshd on web1");
    // Every placeholder, however often it appears; unknown braces stay as they are.
    assert_string_equal(mt::render("{code} {code} {x} {host", "1", "s", "h").c_str(),
                        "1 1 {x} {host");
}

static void values_lose_control_characters_and_are_cut_at_32(void**) {
    assert_string_equal(mt::sanitize("sudo\r\nClick http://evil").c_str(),
                        "sudo??Click http://evil");
    assert_string_equal(mt::sanitize(std::string("a\0b\x1b[31m", 8)).c_str(), "a?b??31m");
    assert_string_equal(mt::sanitize("caf\xc3\xa9 `{x}` <b>&").c_str(), "caf?? ??x?? ?b??");
    const std::string long_name(300, 's');
    assert_int_equal(mt::sanitize(long_name).size(), mt::kMaxValue);
    const std::string text = mt::render(mt::kDefault, "123456", long_name, "h");
    assert_int_equal(text.size(), std::string("123456 is your code for  on h").size() + 32);
    assert_true(mt::sanitize("").empty());
}

static void gsm7_counts_extension_characters_twice_and_falls_back_to_ucs2(void**) {
    bool gsm7 = false;
    assert_int_equal(mt::segment_length("abc 123", gsm7), 7);
    assert_true(gsm7);
    assert_int_equal(mt::segment_length("[x]", gsm7), 5);
    assert_true(gsm7);
    assert_int_equal(mt::segment_length("caf\xc3\xa9", gsm7), 4);
    assert_false(gsm7);
    assert_int_equal(mt::segment_length("`", gsm7), 1);
    assert_false(gsm7);
}

static void a_template_too_long_with_the_longest_values_is_refused(void**) {
    // 6 + 32 + 32 = 70 with the placeholders filled: 90 characters of text fit, 91 do not.
    const std::string fits = "{code}{service}{host}" + std::string(90, 'a');
    assert_false(mt::check(fits).has_value());
    auto why = mt::check(fits + "a");
    assert_true(why.has_value());
    assert_true(why->find("161 GSM-7 characters") != std::string::npos);
    // A character outside GSM-7 makes the text UCS-2: 70 characters a segment.
    why = mt::check("{code} on {host} \xe2\x9c\x93");
    assert_false(why.has_value());
    why = mt::check("{code} for {service} on {host} \xe2\x9c\x93");
    assert_true(why.has_value());
    assert_true(why->find("UCS-2") != std::string::npos);
}

static void a_template_without_code_or_with_an_unknown_placeholder_is_refused(void**) {
    auto why = mt::check("your code for {service}");
    assert_true(why.has_value() && why->find("{code}") != std::string::npos);
    why = mt::check("{code} for {user}");
    assert_true(why.has_value() && why->find("{user}") != std::string::npos);
    assert_false(mt::check("{code} {} {not closed").has_value());
}

int main() {
    const CMUnitTest tests[] = {
        cmocka_unit_test(the_default_names_the_code_first_then_service_and_host),
        cmocka_unit_test(values_lose_control_characters_and_are_cut_at_32),
        cmocka_unit_test(gsm7_counts_extension_characters_twice_and_falls_back_to_ucs2),
        cmocka_unit_test(a_template_too_long_with_the_longest_values_is_refused),
        cmocka_unit_test(a_template_without_code_or_with_an_unknown_placeholder_is_refused),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
