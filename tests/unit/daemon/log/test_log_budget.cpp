// SPDX-License-Identifier: BSD-2-Clause
// The per-uid log budget: a caller gets its lines a minute and no more, root is never held
// back, and a new minute starts a new budget.
#include <csetjmp>
#include <cstdarg>
#include <cstddef>
#include <cstdint>

#include "daemon/log/log_budget.h"

extern "C" {
#include <cmocka.h>
}

using twofactor::LogBudget;
using twofactor::log::caller_in_scope;
using twofactor::log::CallerScope;
using twofactor::log::scope_admits_line;

namespace {

int admitted(LogBudget& budget, uid_t uid, std::int64_t now, int tries) {
    int count = 0;
    for (int i = 0; i < tries; ++i) count += budget.admit(uid, now) ? 1 : 0;
    return count;
}

void a_uid_gets_its_lines_and_no_more(void**) {
    LogBudget budget(5, 60);
    assert_int_equal(admitted(budget, 1000, 100, 1000), 5);
    assert_int_equal(admitted(budget, 1000, 159, 10), 0);
    assert_int_equal(admitted(budget, 1001, 159, 10), 5);  // another uid has its own
}

void a_new_minute_is_a_new_budget(void**) {
    LogBudget budget(3, 60);
    assert_int_equal(admitted(budget, 1000, 100, 10), 3);
    assert_int_equal(admitted(budget, 1000, 160, 10), 3);
    budget.sweep(300);
    assert_int_equal(admitted(budget, 1000, 300, 10), 3);
}

void root_is_never_held_back(void**) {
    LogBudget budget(1, 60);
    assert_int_equal(admitted(budget, 0, 100, 10000), 10000);
}

// Every line written inside a caller's scope asks the budget; outside, nothing does.
void lines_in_a_callers_scope_count_toward_its_budget(void**) {
    twofactor::log::limit_callers(2);
    {
        CallerScope scope(4242);
        assert_true(caller_in_scope() == 4242);
        assert_true(scope_admits_line());
        assert_true(scope_admits_line());
        assert_false(scope_admits_line());
        {
            CallerScope root(0);
            assert_true(scope_admits_line());
        }
        assert_true(caller_in_scope() == 4242);  // the inner scope ended
        assert_false(scope_admits_line());
    }
    assert_false(caller_in_scope().has_value());
    assert_true(scope_admits_line());
    assert_false(twofactor::log::from_caller(4242));
}

}  // namespace

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_uid_gets_its_lines_and_no_more),
        cmocka_unit_test(a_new_minute_is_a_new_budget),
        cmocka_unit_test(root_is_never_held_back),
        cmocka_unit_test(lines_in_a_callers_scope_count_toward_its_budget),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
