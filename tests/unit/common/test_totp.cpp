// SPDX-License-Identifier: BSD-2-Clause
// HOTP and TOTP against the RFCs' own test vectors, plus the helpers the daemon compares with.
#include <stdexcept>
#include <string>

#include "common/totp.h"

// cmocka last: its fail() macro would clash with std::ios::fail(). Its 1.1 header leaves
// print_message()/print_error() without C linkage, hence the extern "C".
#include <csetjmp>
#include <cstdarg>
#include <cstddef>
#include <cstdint>
extern "C" {
#include <cmocka.h>
}

using twofactor::HashAlgorithm;

namespace {

const std::string kSha1Key = "12345678901234567890";
const std::string kSha256Key = "12345678901234567890123456789012";
const std::string kSha512Key = "1234567890123456789012345678901234567890123456789012345678901234";

// RFC 4226 Appendix D: HOTP values for counters 0 to 9.
void test_rfc4226_appendix_d(void**) {
    const std::uint32_t expected[10] = {755224, 287082, 359152, 969429, 338314,
                                        254676, 287922, 162583, 399871, 520489};
    for (std::uint64_t counter = 0; counter < 10; ++counter) {
        assert_int_equal(twofactor::hotp(kSha1Key, counter), expected[counter]);
        assert_string_equal(twofactor::totp_code(kSha1Key, counter).c_str(),
                            twofactor::format_code(expected[counter]).c_str());
    }
}

// RFC 4226 Appendix D also lists the 31-bit truncated value; 9 digits keep most of it.
void test_truncation_keeps_31_bits(void**) {
    assert_int_equal(twofactor::hotp(kSha1Key, 0, 9), 1284755224u % 1000000000u);
    assert_int_equal(twofactor::hotp(kSha1Key, 1, 9), 1094287082u % 1000000000u);
}

// RFC 6238 Appendix B: every row, 8 digits, each algorithm with its own key.
void test_rfc6238_appendix_b(void**) {
    struct Row {
        std::int64_t time;
        std::uint64_t step;
        const char* sha1;
        const char* sha256;
        const char* sha512;
    };
    const Row rows[] = {
        {59, 0x1, "94287082", "46119246", "90693936"},
        {1111111109, 0x23523EC, "07081804", "68084774", "25091201"},
        {1111111111, 0x23523ED, "14050471", "67062674", "99943326"},
        {1234567890, 0x273EF07, "89005924", "91819424", "93441116"},
        {2000000000, 0x3F940AA, "69279037", "90698825", "38618901"},
        {20000000000, 0x27BC86AA, "65353130", "77737706", "47863826"},
    };
    for (const Row& row : rows) {
        const std::uint64_t step = twofactor::totp_step(row.time);
        assert_int_equal(step, row.step);
        assert_string_equal(
            twofactor::format_code(twofactor::hotp(kSha1Key, step, 8, HashAlgorithm::Sha1), 8)
                .c_str(),
            row.sha1);
        assert_string_equal(
            twofactor::format_code(twofactor::hotp(kSha256Key, step, 8, HashAlgorithm::Sha256), 8)
                .c_str(),
            row.sha256);
        assert_string_equal(
            twofactor::format_code(twofactor::hotp(kSha512Key, step, 8, HashAlgorithm::Sha512), 8)
                .c_str(),
            row.sha512);
    }
}

// Values computed independently (Python's hmac module) for inputs the RFCs do not cover.
void test_other_keys(void**) {
    assert_int_equal(twofactor::hotp("", 0), 328482u);
    // FusionAuth's example secret at Unix time 1700000000.
    assert_string_equal(
        twofactor::totp_code("8MJJfCY4ERBtotvenSc3", twofactor::totp_step(1700000000)).c_str(),
        "063854");
}

void test_bad_digits_throw(void**) {
    for (int digits : {0, -1, 10}) {
        bool threw = false;
        try {
            twofactor::hotp(kSha1Key, 0, digits);
        } catch (const std::invalid_argument&) {
            threw = true;
        }
        assert_true(threw);
    }
}

void test_format_code_pads(void**) {
    assert_string_equal(twofactor::format_code(0).c_str(), "000000");
    assert_string_equal(twofactor::format_code(42).c_str(), "000042");
    assert_string_equal(twofactor::format_code(7081804, 8).c_str(), "07081804");
    assert_string_equal(twofactor::format_code(999999).c_str(), "999999");
}

void test_totp_step_boundaries(void**) {
    assert_int_equal(twofactor::totp_step(0), 0);
    assert_int_equal(twofactor::totp_step(29), 0);
    assert_int_equal(twofactor::totp_step(30), 1);
    assert_int_equal(twofactor::totp_step(59), 1);
    assert_int_equal(twofactor::totp_step(60), 2);
    assert_int_equal(twofactor::totp_step(1111111109), 37037036);
    assert_int_equal(twofactor::totp_step(1111111110), 37037037);
    assert_int_equal(twofactor::totp_step(-1), 0);
    assert_int_equal(twofactor::totp_step(119, 60), 1);
    assert_int_equal(twofactor::totp_step(120, 60), 2);
    bool threw = false;
    try {
        twofactor::totp_step(100, 0);
    } catch (const std::invalid_argument&) {
        threw = true;
    }
    assert_true(threw);
}

void test_codes_equal(void**) {
    assert_true(twofactor::codes_equal("123456", "123456"));
    assert_true(twofactor::codes_equal("", ""));
    assert_false(twofactor::codes_equal("123456", "023456"));
    assert_false(twofactor::codes_equal("123456", "123457"));
    // Different lengths are unequal even when one is a prefix of the other.
    assert_false(twofactor::codes_equal("123456", "1234567"));
    assert_false(twofactor::codes_equal("1234567", "123456"));
    assert_false(twofactor::codes_equal("12345", "123456"));
    assert_false(twofactor::codes_equal("", "1"));
    assert_false(twofactor::codes_equal("1", ""));
    // A NUL in the longer text must not pass as the end of the shorter one.
    assert_false(twofactor::codes_equal("123456", std::string_view("123456\0", 7)));
    assert_false(twofactor::codes_equal(std::string_view("12345\0", 6), "12345"));
}

void test_is_code_shaped(void**) {
    assert_true(twofactor::is_code_shaped("123456"));
    assert_true(twofactor::is_code_shaped("000000"));
    assert_true(twofactor::is_code_shaped("12345678", 8));
    assert_false(twofactor::is_code_shaped("12345678"));
    assert_false(twofactor::is_code_shaped("12345"));
    assert_false(twofactor::is_code_shaped("1234567"));
    assert_false(twofactor::is_code_shaped("12345a"));
    assert_false(twofactor::is_code_shaped(" 12345"));
    assert_false(twofactor::is_code_shaped("12345 "));
    assert_false(twofactor::is_code_shaped("-12345"));
    assert_false(twofactor::is_code_shaped(""));
    assert_false(twofactor::is_code_shaped("", 0));
    assert_false(twofactor::is_code_shaped(std::string_view("12345\0", 6)));
    assert_false(twofactor::is_code_shaped("\xd9\xa1\xd9\xa2\xd9\xa3"));  // Arabic-Indic digits
}

}  // namespace

// An app's code is accepted one step either side of now, and no further.
void test_app_code_step_window(void**) {
    const std::string key = "12345678901234567890";
    const std::int64_t now = 1'800'000'010;
    const std::uint64_t current = twofactor::totp_step(now);
    for (std::uint64_t step : {current - 1, current, current + 1}) {
        auto found = twofactor::app_code_step(key, twofactor::totp_code(key, step), now);
        assert_true(found.has_value());
        assert_true(*found == step);
    }
    assert_false(
        twofactor::app_code_step(key, twofactor::totp_code(key, current + 2), now).has_value());
    assert_false(
        twofactor::app_code_step(key, twofactor::totp_code(key, current - 2), now).has_value());
}

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc4226_appendix_d),
        cmocka_unit_test(test_truncation_keeps_31_bits),
        cmocka_unit_test(test_rfc6238_appendix_b),
        cmocka_unit_test(test_other_keys),
        cmocka_unit_test(test_bad_digits_throw),
        cmocka_unit_test(test_format_code_pads),
        cmocka_unit_test(test_totp_step_boundaries),
        cmocka_unit_test(test_codes_equal),
        cmocka_unit_test(test_is_code_shaped),
        cmocka_unit_test(test_app_code_step_window),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
