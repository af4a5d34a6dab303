// SPDX-License-Identifier: BSD-2-Clause
// The module's argument parser: defaults, each option, clamping, and that bad or unknown
// arguments are reported without changing anything else.
#include <string>
#include <vector>

#include "pam/options.h"
#include "paths.h"

#include <csetjmp>
#include <cstdarg>
#include <cstddef>
#include <cstdint>
extern "C" {
#include <cmocka.h>
}

using twofactor::pam::FailMode;
using twofactor::pam::ParsedOptions;

namespace {

ParsedOptions parse(std::vector<const char*> arguments) {
    return twofactor::pam::parse_options(static_cast<int>(arguments.size()), arguments.data());
}

bool any_problem_mentions(const ParsedOptions& parsed, const std::string& text) {
    for (const auto& problem : parsed.problems)
        if (problem.find(text) != std::string::npos) return true;
    return false;
}

void test_defaults(void**) {
    const ParsedOptions parsed = parse({});
    assert_true(parsed.problems.empty());
    assert_string_equal(parsed.options.socket.c_str(), twofactor::paths::kSocket);
    assert_false(parsed.options.nullok);
    assert_true(parsed.options.failmode == FailMode::Secure);
    assert_int_equal(parsed.options.tries, 3);
    assert_int_equal(parsed.options.timeout.count(), 30);
    assert_false(parsed.options.echo);
    assert_false(parsed.options.debug);
    assert_int_equal(parsed.options.trust.count(), 0);  // trust is off unless asked for
}

void test_no_argv_at_all(void**) {
    const ParsedOptions parsed = twofactor::pam::parse_options(3, nullptr);
    assert_true(parsed.problems.empty());
    assert_int_equal(parsed.options.tries, 3);
}

void test_each_option(void**) {
    const ParsedOptions parsed = parse({"socket=/tmp/x/socket", "nullok", "failmode=safe",
                                        "tries=7", "timeout=120", "echo", "debug"});
    assert_true(parsed.problems.empty());
    assert_string_equal(parsed.options.socket.c_str(), "/tmp/x/socket");
    assert_true(parsed.options.nullok);
    assert_true(parsed.options.failmode == FailMode::Safe);
    assert_int_equal(parsed.options.tries, 7);
    assert_int_equal(parsed.options.timeout.count(), 120);
    assert_true(parsed.options.echo);
    assert_true(parsed.options.debug);
}

void test_later_argument_wins(void**) {
    const ParsedOptions parsed = parse({"failmode=safe", "failmode=secure", "tries=2", "tries=4"});
    assert_true(parsed.problems.empty());
    assert_true(parsed.options.failmode == FailMode::Secure);
    assert_int_equal(parsed.options.tries, 4);
}

void test_tries_clamped(void**) {
    ParsedOptions parsed = parse({"tries=0"});
    assert_int_equal(parsed.options.tries, 1);
    assert_int_equal(parsed.problems.size(), 1);
    assert_true(any_problem_mentions(parsed, "tries=0 is outside 1..10; using 1"));

    parsed = parse({"tries=11"});
    assert_int_equal(parsed.options.tries, 10);
    assert_int_equal(parsed.problems.size(), 1);

    parsed = parse({"tries=-5"});
    assert_int_equal(parsed.options.tries, 1);

    parsed = parse({"tries=99999999999999999999999"});
    assert_int_equal(parsed.options.tries, 10);
    assert_int_equal(parsed.problems.size(), 1);

    parsed = parse({"tries=1"});
    assert_int_equal(parsed.options.tries, 1);
    assert_true(parsed.problems.empty());
    parsed = parse({"tries=10"});
    assert_int_equal(parsed.options.tries, 10);
    assert_true(parsed.problems.empty());
}

void test_timeout_clamped(void**) {
    ParsedOptions parsed = parse({"timeout=0"});
    assert_int_equal(parsed.options.timeout.count(), 1);
    assert_int_equal(parsed.problems.size(), 1);

    parsed = parse({"timeout=301"});
    assert_int_equal(parsed.options.timeout.count(), 300);
    assert_true(any_problem_mentions(parsed, "timeout=301 is outside 1..300; using 300"));

    parsed = parse({"timeout=300"});
    assert_int_equal(parsed.options.timeout.count(), 300);
    assert_true(parsed.problems.empty());
}

void test_trust_clamped(void**) {
    ParsedOptions parsed = parse({"trust=3600"});
    assert_true(parsed.problems.empty());
    assert_int_equal(parsed.options.trust.count(), 3600);
    parsed = parse({"trust=-5"});
    assert_int_equal(parsed.options.trust.count(), 0);
    assert_true(any_problem_mentions(parsed, "trust=-5 is outside 0..2592000; using 0"));
    parsed = parse({"trust=2592001"});
    assert_int_equal(parsed.options.trust.count(), 2592000);
    parsed = parse({"trust=soon"});
    assert_int_equal(parsed.options.trust.count(), 0);
    assert_true(any_problem_mentions(parsed, "not a whole number"));
}

void test_numbers_that_are_not_numbers_keep_defaults(void**) {
    const ParsedOptions parsed = parse({"tries=abc", "timeout=", "tries=5x", "timeout=1.5"});
    assert_int_equal(parsed.options.tries, 3);
    assert_int_equal(parsed.options.timeout.count(), 30);
    assert_int_equal(parsed.problems.size(), 4);
    assert_true(any_problem_mentions(parsed, "tries=abc: not a whole number; using 3"));
}

void test_bad_failmode_fails_closed(void**) {
    const ParsedOptions parsed = parse({"failmode=safe", "failmode=open"});
    assert_true(parsed.options.failmode == FailMode::Secure);
    assert_int_equal(parsed.problems.size(), 1);
    assert_true(any_problem_mentions(parsed, "failmode=open"));
}

void test_relative_socket_refused(void**) {
    const ParsedOptions parsed = parse({"socket=run/socket", "socket="});
    assert_string_equal(parsed.options.socket.c_str(), twofactor::paths::kSocket);
    assert_int_equal(parsed.problems.size(), 2);
}

void test_unknown_options_reported_not_fatal(void**) {
    const ParsedOptions parsed =
        parse({"nullok", "use_first_pass", "nullok=yes", "echo=1", "tries", "debug"});
    assert_true(parsed.options.nullok);
    assert_true(parsed.options.debug);
    assert_false(parsed.options.echo);
    assert_int_equal(parsed.options.tries, 3);
    assert_int_equal(parsed.problems.size(), 4);
    assert_true(any_problem_mentions(parsed, "unknown option 'use_first_pass'"));
    assert_true(any_problem_mentions(parsed, "unknown option 'nullok=yes'"));
    assert_true(any_problem_mentions(parsed, "unknown option 'echo=1'"));
    assert_true(any_problem_mentions(parsed, "unknown option 'tries'"));
}

void test_null_entries_skipped(void**) {
    const ParsedOptions parsed = parse({nullptr, "echo", nullptr});
    assert_true(parsed.options.echo);
    assert_true(parsed.problems.empty());
}

}  // namespace

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_no_argv_at_all),
        cmocka_unit_test(test_each_option),
        cmocka_unit_test(test_later_argument_wins),
        cmocka_unit_test(test_tries_clamped),
        cmocka_unit_test(test_timeout_clamped),
        cmocka_unit_test(test_trust_clamped),
        cmocka_unit_test(test_numbers_that_are_not_numbers_keep_defaults),
        cmocka_unit_test(test_bad_failmode_fails_closed),
        cmocka_unit_test(test_relative_socket_refused),
        cmocka_unit_test(test_unknown_options_reported_not_fatal),
        cmocka_unit_test(test_null_entries_skipped),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
