// SPDX-License-Identifier: BSD-2-Clause
// Generated secrets: length, alphabet, uniqueness and no modulo bias; supplied secrets: every
// refusal comes with a sentence that does not repeat the secret.
#include <array>
#include <set>
#include <string>

#include "common/secret.h"

// cmocka last: its fail() macro would clash with std::ios::fail(). Its 1.1 header leaves
// print_message()/print_error() without C linkage, hence the extern "C".
#include <csetjmp>
#include <cstdarg>
#include <cstddef>
#include <cstdint>
extern "C" {
#include <cmocka.h>
}

namespace {

constexpr std::string_view kAlphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

void test_generated_shape(void**) {
    const twofactor::SecureString secret = twofactor::generate_secret();
    assert_int_equal(secret.size(), twofactor::kGeneratedSecretLength);
    assert_int_equal(secret.size(), 32);
    for (char c : secret.view()) assert_true(kAlphabet.find(c) != std::string_view::npos);
    assert_false(twofactor::check_secret(secret.view()).has_value());
}

void test_two_calls_differ(void**) {
    const twofactor::SecureString a = twofactor::generate_secret();
    const twofactor::SecureString b = twofactor::generate_secret();
    assert_true(a.view() != b.view());
}

// 1000 secrets are all distinct, use the whole alphabet, and the first 8 letters are not
// favoured: a plain "byte % 62" would make each of them 25% more likely than the others.
void test_many_distinct_and_unbiased(void**) {
    std::set<std::string> seen;
    std::array<int, 62> counts{};
    for (int i = 0; i < 1000; ++i) {
        const twofactor::SecureString secret = twofactor::generate_secret();
        assert_int_equal(secret.size(), 32);
        for (char c : secret.view()) {
            const std::size_t index = kAlphabet.find(c);
            assert_true(index != std::string_view::npos);
            ++counts[index];
        }
        seen.emplace(secret.view());
    }
    assert_int_equal(seen.size(), 1000);

    double first_eight = 0;
    double others = 0;
    for (std::size_t i = 0; i < counts.size(); ++i) {
        assert_true(counts[i] > 0);
        (i < 8 ? first_eight : others) += counts[i];
    }
    // Expected ~516 per letter with a standard deviation of ~23: the ratio of averages stays
    // within a few percent of 1 unless something favours the first letters.
    const double ratio = (first_eight / 8) / (others / 54);
    print_message("first-8 / other letters frequency ratio: %.3f\n", ratio);
    assert_true(ratio > 0.90 && ratio < 1.10);
}

void assert_refused(std::string_view secret, const char* reason_part) {
    const auto reason = twofactor::check_secret(secret);
    assert_true(reason.has_value());
    assert_true(reason->find(reason_part) != std::string::npos);
    assert_true(reason->back() == '.');
    // The sentence says why, never what the secret was.
    if (secret.size() >= 4) assert_true(reason->find(secret) == std::string::npos);
}

void test_check_length(void**) {
    assert_refused("", "too short");
    assert_refused("abcdefghijklmno", "too short");                         // 15
    assert_false(twofactor::check_secret("abcdefghijklmnop").has_value());  // 16
    assert_false(twofactor::check_secret("8MJJfCY4ERBtotvenSc3").has_value());
    assert_false(twofactor::check_secret(std::string(256, 'x')).has_value());
    assert_refused(std::string(257, 'x'), "too long");
}

void test_check_characters(void**) {
    assert_false(twofactor::check_secret("!#$%&'()*+,-./:;<=>?@[\\]^_`{|}~").has_value());
    assert_refused("abcdefgh ijklmnop", "whitespace");
    assert_refused("abcdefgh\tijklmnop", "whitespace");
    assert_refused("abcdefghijklmnop\n", "whitespace");
    assert_refused("abcdefghijklmnop\r", "whitespace");
    assert_refused("abcdefgh\x01ijklmnop", "not printable");
    assert_refused("abcdefgh\x7fijklmnop", "not printable");
    assert_refused(std::string_view("abcdefgh\0ijklmnop", 17), "not printable");
    assert_refused("abcdefgh\xc3\xa9ijklmnop", "not printable");
}

}  // namespace

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_generated_shape),
        cmocka_unit_test(test_two_calls_differ),
        cmocka_unit_test(test_many_distinct_and_unbiased),
        cmocka_unit_test(test_check_length),
        cmocka_unit_test(test_check_characters),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
