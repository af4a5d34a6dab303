// SPDX-License-Identifier: BSD-2-Clause
// The account lookups against this machine's own databases: root is always there, a made-up
// name and gid are not, and "not there" is told apart from a failing lookup for groups.
#include <csetjmp>
#include <cstdarg>
#include <cstddef>
#include <cstdint>

#include "common/accounts.h"

// cmocka last: its fail() macro would break the C++ headers.
extern "C" {
#include <cmocka.h>
}

namespace {

void root_by_name_and_by_uid(void**) {
    auto by_name = twofactor::account_named("root");
    assert_true(by_name.has_value());
    assert_int_equal(by_name->uid, 0);
    assert_int_equal(by_name->gid, 0);
    auto by_uid = twofactor::account_of(0);
    assert_true(by_uid.has_value());
    assert_string_equal(by_uid->name.c_str(), "root");
    auto group = twofactor::group_name_of(0);
    assert_true(group.has_value());
    assert_string_equal(group->c_str(), "root");
}

void missing_entries(void**) {
    int error = -1;
    assert_false(twofactor::account_named("no-such-user-twofactor-test", &error).has_value());
    assert_int_equal(error, 0);  // missing, not failed
    assert_false(twofactor::account_of(static_cast<uid_t>(3999999999U)).has_value());
    auto group = twofactor::group_name_of(static_cast<gid_t>(3999999999U));
    assert_true(group.has_value());  // looked up fine, and there is no such group
    assert_true(group->empty());
}

}  // namespace

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(root_by_name_and_by_uid),
        cmocka_unit_test(missing_entries),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
