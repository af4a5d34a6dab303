// SPDX-License-Identifier: BSD-2-Clause
// Recovery codes: their shape and alphabet (50 bits each, no 0/O/1/I), an even spread of
// symbols, what typing is forgiven, and the stored hash pinned to PBKDF2-HMAC-SHA256.
#include <array>
#include <set>
#include <string>

#include "common/recovery_codes.h"

#include <csetjmp>
#include <cstdarg>
#include <cstddef>
#include <cstdint>
extern "C" {
#include <cmocka.h>
}

using twofactor::kRecoveryAlphabet;

namespace {

std::string hex(const std::string& bytes) {
    static const char* digits = "0123456789abcdef";
    std::string out;
    for (unsigned char c : bytes) {
        out.push_back(digits[c >> 4]);
        out.push_back(digits[c & 15]);
    }
    return out;
}

void test_ten_codes_shaped_xxxxx_xxxxx(void**) {
    const auto codes = twofactor::generate_recovery_codes();
    assert_int_equal(codes.size(), 10);
    std::set<std::string> distinct;
    for (const auto& code : codes) {
        const std::string text(code.view());
        assert_int_equal(text.size(), 11);
        assert_int_equal(text[5], '-');
        for (std::size_t i = 0; i < text.size(); ++i)
            if (i != 5) assert_true(kRecoveryAlphabet.find(text[i]) != std::string::npos);
        distinct.insert(text);
    }
    assert_int_equal(distinct.size(), 10);
}

void test_alphabet_has_no_look_alikes_and_32_symbols(void**) {
    assert_int_equal(kRecoveryAlphabet.size(), 32);  // 10 symbols x 5 bits = 50 bits
    for (char c : std::string("0O1I")) assert_true(kRecoveryAlphabet.find(c) == std::string::npos);
    assert_int_equal(std::set<char>(kRecoveryAlphabet.begin(), kRecoveryAlphabet.end()).size(), 32);
}

void test_symbols_are_evenly_spread(void**) {
    // 32,000 symbols: 1,000 expected each, standard deviation about 31; the bounds are 6 of
    // them away, so an honest generator fails this about once in 10^8 runs.
    std::array<int, 256> seen{};
    const auto codes = twofactor::generate_recovery_codes(3200);
    for (const auto& code : codes)
        for (char c : code.view())
            if (c != '-') seen[static_cast<unsigned char>(c)]++;
    for (char c : kRecoveryAlphabet) {
        assert_in_range(seen[static_cast<unsigned char>(c)], 810, 1190);
    }
}

void test_normalize_forgives_case_dash_and_blanks(void**) {
    for (const char* typed : {"ABCDE-23456", "abcde-23456", "ABCDE23456", " abcde 23456 "}) {
        auto normalized = twofactor::normalize_recovery_code(typed);
        assert_true(normalized.has_value());
        assert_string_equal(normalized->c_str(), "ABCDE23456");
    }
}

void test_normalize_refuses_what_cannot_be_a_code(void**) {
    for (const char* typed :
         {"", "123456", "ABCDE-2345", "ABCDE-234567", "ABCD-E23456", "ABCDE--23456", "ABCDO-23456",
          "ABCDE-23451", "ABCDE_23456", "ABCDE-23456-ABCDE-23456"})
        assert_false(twofactor::normalize_recovery_code(typed).has_value());
}

void test_hash_is_pbkdf2_sha256_with_ten_thousand_rounds(void**) {
    // python3: hashlib.pbkdf2_hmac('sha256', b'ABCDE23456', b'0123456789abcdef', 10000)
    assert_string_equal(
        hex(twofactor::hash_recovery_code("ABCDE23456", "0123456789abcdef")).c_str(),
        "ccf596ac625e9e09639b23da3e19b69cff444812516f7b93a021b0ac134dae70");
}

void test_salts_are_random_and_change_the_hash(void**) {
    const std::string a = twofactor::random_salt(), b = twofactor::random_salt();
    assert_int_equal(a.size(), 16);
    assert_true(a != b);
    assert_true(twofactor::hash_recovery_code("ABCDE23456", a) !=
                twofactor::hash_recovery_code("ABCDE23456", b));
}

}  // namespace

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ten_codes_shaped_xxxxx_xxxxx),
        cmocka_unit_test(test_alphabet_has_no_look_alikes_and_32_symbols),
        cmocka_unit_test(test_symbols_are_evenly_spread),
        cmocka_unit_test(test_normalize_forgives_case_dash_and_blanks),
        cmocka_unit_test(test_normalize_refuses_what_cannot_be_a_code),
        cmocka_unit_test(test_hash_is_pbkdf2_sha256_with_ten_thousand_rounds),
        cmocka_unit_test(test_salts_are_random_and_change_the_hash),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
