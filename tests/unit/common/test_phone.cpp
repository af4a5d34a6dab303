// SPDX-License-Identifier: BSD-2-Clause
// Phone numbers: what people type, what Twilio gets, what the screen shows.
#include <cctype>
#include <set>
#include <string>

#include "common/phone.h"

// cmocka last: its fail() macro would clash with std::ios::fail(). Its 1.1 header leaves
// print_message()/print_error() without C linkage, hence the extern "C".
#include <csetjmp>
#include <cstdarg>
#include <cstddef>
#include <cstdint>
extern "C" {
#include <cmocka.h>
}

using twofactor::PhoneError;

namespace {

void assert_normalizes(std::string_view input, std::string_view country, const char* expected) {
    const auto result = twofactor::normalize_phone(input, country);
    if (const auto* e = std::get_if<PhoneError>(&result)) {
        print_error("unexpected refusal of \"%.*s\": %s\n", static_cast<int>(input.size()),
                    input.data(), e->reason.c_str());
        fail();
    }
    assert_string_equal(std::get<std::string>(result).c_str(), expected);
}

void assert_refused(std::string_view input, std::string_view country, const char* reason_part) {
    const auto result = twofactor::normalize_phone(input, country);
    if (const auto* number = std::get_if<std::string>(&result)) {
        print_error("\"%.*s\" was accepted as %s\n", static_cast<int>(input.size()), input.data(),
                    number->c_str());
        fail();
    }
    const std::string& reason = std::get<PhoneError>(result).reason;
    if (reason.find(reason_part) == std::string::npos) {
        print_error("reason \"%s\" lacks \"%s\"\n", reason.c_str(), reason_part);
        fail();
    }
    assert_true(reason.back() == '.');
    // No run of 3 or more digits from the input shows up in the sentence.
    for (std::size_t i = 0; i + 3 <= reason.size(); ++i) {
        const bool digits = std::isdigit(static_cast<unsigned char>(reason[i])) &&
                            std::isdigit(static_cast<unsigned char>(reason[i + 1])) &&
                            std::isdigit(static_cast<unsigned char>(reason[i + 2]));
        assert_false(digits);
    }
}

void test_international_forms(void**) {
    assert_normalizes("+15555555555", "", "+15555555555");
    assert_normalizes("+1 (555) 555-5555", "", "+15555555555");
    assert_normalizes("+1.555.555.5555", "44", "+15555555555");  // explicit code wins
    assert_normalizes("00 44 7700 900123", "", "+447700900123");
    assert_normalizes("0044-7700-900123", "1", "+447700900123");
    assert_normalizes("+44 (0)7700 900123", "", "+447700900123");  // the bracketed trunk 0
    assert_normalizes("  +33 6 12 34 56 78  ", "", "+33612345678");
}

void test_national_with_default_country_code(void**) {
    assert_normalizes("555-555-5555", "1", "+15555555555");
    assert_normalizes("(555) 555-5555", "1", "+15555555555");
    assert_normalizes("555.555.5555", "1", "+15555555555");
    assert_normalizes("1-555-555-5555", "1", "+15555555555");  // NANP trunk 1
    assert_normalizes("07700 900123", "44", "+447700900123");  // trunk 0 dropped
    assert_normalizes("7700 900123", "44", "+447700900123");
    assert_normalizes("0151 12345678", "49", "+4915112345678");
    assert_normalizes("06 1234 5678", "39", "+390612345678");  // Italy keeps its 0
    assert_normalizes("555-555-5555", "+1", "+15555555555");   // a "+" on the code is harmless
}

void test_no_country_code(void**) {
    assert_refused("555-555-5555", "", "has no country code; write it as +<country code><number>");
    assert_refused("07700 900123", "", "has no country code");
}

void test_bad_default_country_code(void**) {
    assert_refused("555-555-5555", "abc", "default country code");
    assert_refused("555-555-5555", "1234", "default country code");
    assert_refused("555-555-5555", "044", "default country code");
}

void test_refusals(void**) {
    assert_refused("", "1", "empty");
    assert_refused("   ", "1", "empty");
    assert_refused("-() .", "1", "empty");
    assert_refused("555-CALL-NOW", "1", "letters");
    assert_refused("+1 555 555 555x", "", "letters");
    assert_refused("555/555/5555", "1", "not a digit");
    assert_refused("555#5555555", "1", "not a digit");
    assert_refused("+1555555\n5555", "", "not a digit");
    assert_refused("1+5555555555", "1", "in the middle");
    assert_refused("++15555555555", "", "in the middle");
    assert_refused("+", "", "no digits");
    assert_refused("00", "", "no digits");
    assert_refused("+0044 7700 900123", "", "starts with 0");
}

void test_digit_counts(void**) {
    assert_refused("+1234567", "", "too few");                      // 7 digits
    assert_normalizes("+12345678", "", "+12345678");                // 8
    assert_refused("5555", "1", "too few");                         // 5 with the code
    assert_normalizes("+123456789012345", "", "+123456789012345");  // 15
    assert_refused("+1234567890123456", "", "too many");            // 16
    assert_refused("1234567890123456", "44", "too many");
    assert_refused("+" + std::string(100000, '5'), "", "too many");
}

void test_mask(void**) {
    assert_string_equal(twofactor::mask_phone("+15555555555").c_str(), "***-***-5555");
    assert_string_equal(twofactor::mask_phone("+447700900123").c_str(), "***-***-0123");
    assert_string_equal(twofactor::mask_phone("+12345678").c_str(), "***-***-5678");
    assert_string_equal(twofactor::mask_phone("+1234").c_str(), "***-***-****");
    assert_string_equal(twofactor::mask_phone("12").c_str(), "***-***-****");
    assert_string_equal(twofactor::mask_phone("").c_str(), "***-***-****");
}

void test_calling_code(void**) {
    assert_string_equal(twofactor::calling_code("1").value_or("-").c_str(), "1");
    assert_string_equal(twofactor::calling_code("+44").value_or("-").c_str(), "44");
    assert_string_equal(twofactor::calling_code("354").value_or("-").c_str(), "354");
    for (const char* bad : {"", "+", "0", "044", "1234", "4x", " 1", "+-1"})
        assert_false(twofactor::calling_code(bad).has_value());
}

void test_country_code_of(void**) {
    assert_string_equal(twofactor::country_code_of("+15555555555").c_str(), "1");
    assert_string_equal(twofactor::country_code_of("+79161234567").c_str(), "7");
    assert_string_equal(twofactor::country_code_of("+447700900123").c_str(), "44");
    assert_string_equal(twofactor::country_code_of("+421212345678").c_str(), "421");
    assert_string_equal(twofactor::country_code_of("+353861234567").c_str(), "353");
    assert_string_equal(twofactor::country_code_of("+8613812345678").c_str(), "86");
    assert_string_equal(twofactor::country_code_of("+85291234567").c_str(), "852");
    assert_string_equal(twofactor::country_code_of("+971501234567").c_str(), "971");
    assert_string_equal(twofactor::country_code_of("+2348012345678").c_str(), "234");
    assert_string_equal(twofactor::country_code_of("").c_str(), "");
    assert_string_equal(twofactor::country_code_of("+").c_str(), "");
    assert_string_equal(twofactor::country_code_of("+0123456789").c_str(), "");
    assert_string_equal(twofactor::country_code_of("+1x").c_str(), "");

    // Every two-digit prefix from 20 to 99 against the ITU list of two-digit codes.
    const std::set<int> two_digit = {20, 27, 30, 31, 32, 33, 34, 36, 39, 40, 41, 43, 44, 45, 46,
                                     47, 48, 49, 51, 52, 53, 54, 55, 56, 57, 58, 60, 61, 62, 63,
                                     64, 65, 66, 81, 82, 84, 86, 90, 91, 92, 93, 94, 95, 98};
    for (int prefix = 20; prefix <= 99; ++prefix) {
        if (prefix / 10 == 7) continue;
        const std::string number = "+" + std::to_string(prefix) + "123456789";
        const std::size_t expected = two_digit.count(prefix) ? 2 : 3;
        const std::string code = twofactor::country_code_of(number);
        if (code != number.substr(1, expected)) {
            print_error("%s -> \"%s\"\n", number.c_str(), code.c_str());
            fail();
        }
    }
}

}  // namespace

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_international_forms),
        cmocka_unit_test(test_national_with_default_country_code),
        cmocka_unit_test(test_no_country_code),
        cmocka_unit_test(test_bad_default_country_code),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_digit_counts),
        cmocka_unit_test(test_mask),
        cmocka_unit_test(test_calling_code),
        cmocka_unit_test(test_country_code_of),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
