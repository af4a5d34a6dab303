// SPDX-License-Identifier: BSD-2-Clause
// `groups=`: parsing the option, Duo's matching rules (a negated match excludes, whatever else
// matches), and that a list of negations only is reported.
#include <cstring>
#include <string>
#include <vector>

#include "pam/groups.h"
#include "pam/options.h"

#include <csetjmp>
#include <cstdarg>
#include <cstddef>
#include <cstdint>
extern "C" {
#include <cmocka.h>
}

using twofactor::pam::GroupPatterns;
using twofactor::pam::groups_match;
using twofactor::pam::parse_group_patterns;

namespace {

GroupPatterns patterns(const char* value) {
    auto parsed = parse_group_patterns(value);
    assert_true(parsed.has_value());
    return *parsed;
}

void test_parse_splits_and_negates(void**) {
    const GroupPatterns p = patterns("admin*,,sudo,!contractors,!");
    assert_int_equal(p.include.size(), 2);
    assert_string_equal(p.include[0].c_str(), "admin*");
    assert_string_equal(p.include[1].c_str(), "sudo");
    assert_int_equal(p.exclude.size(), 1);
    assert_string_equal(p.exclude[0].c_str(), "contractors");
}

void test_empty_value_is_no_patterns(void**) {
    assert_false(parse_group_patterns("").has_value());
    assert_false(parse_group_patterns(",,").has_value());
    assert_false(parse_group_patterns("!").has_value());
}

void test_a_plain_match_is_inside(void**) {
    const GroupPatterns p = patterns("admin*,sudo");
    assert_true(groups_match(p, {"users", "admins"}));
    assert_true(groups_match(p, {"sudo"}));
    assert_false(groups_match(p, {"users", "sudoers"}));  // whole names, not prefixes
    assert_false(groups_match(p, {}));
}

void test_a_negated_match_excludes_whatever_else_matches(void**) {
    const GroupPatterns p = patterns("*,!contract?rs");
    assert_true(groups_match(p, {"users"}));
    assert_false(groups_match(p, {"users", "contractors"}));
    assert_false(groups_match(p, {"contractors", "users"}));  // order does not matter
}

void test_negations_only_match_nobody(void**) {
    const GroupPatterns p = patterns("!contractors");
    assert_false(groups_match(p, {"users"}));
    assert_false(groups_match(p, {"contractors"}));
}

void test_option_reports_what_it_cannot_use(void**) {
    const char* empty[] = {"groups="};
    auto parsed = twofactor::pam::parse_options(1, empty);
    assert_false(parsed.options.groups.has_value());
    assert_int_equal(parsed.problems.size(), 1);

    const char* negations[] = {"groups=!contractors,!guests"};
    parsed = twofactor::pam::parse_options(1, negations);
    assert_true(parsed.options.groups.has_value());
    assert_int_equal(parsed.problems.size(), 1);
    assert_non_null(strstr(parsed.problems[0].c_str(), "only negated patterns"));

    const char* fine[] = {"groups=wheel,!guests"};
    parsed = twofactor::pam::parse_options(1, fine);
    assert_true(parsed.problems.empty());
    assert_int_equal(parsed.options.groups->include.size(), 1);
}

void test_group_names_of_an_unknown_user(void**) {
    assert_false(twofactor::pam::group_names_of("no-such-user-twofactor-test").has_value());
}

void test_group_names_of_root(void**) {
    const auto names = twofactor::pam::group_names_of("root");
    assert_true(names.has_value());
    bool has_root = false;
    for (const auto& name : *names) has_root = has_root || name == "root";
    assert_true(has_root);
}

}  // namespace

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_splits_and_negates),
        cmocka_unit_test(test_empty_value_is_no_patterns),
        cmocka_unit_test(test_a_plain_match_is_inside),
        cmocka_unit_test(test_a_negated_match_excludes_whatever_else_matches),
        cmocka_unit_test(test_negations_only_match_nobody),
        cmocka_unit_test(test_option_reports_what_it_cannot_use),
        cmocka_unit_test(test_group_names_of_an_unknown_user),
        cmocka_unit_test(test_group_names_of_root),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
