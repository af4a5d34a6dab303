// SPDX-License-Identifier: BSD-2-Clause
#include <csetjmp>
#include <cstdarg>
#include <cstddef>
#include <cstdint>

#include "daemon/service/limits.h"

// cmocka last: its fail() macro would break the C++ headers.
extern "C" {
#include <cmocka.h>
}

using twofactor::RateLimiter;

static void allows_the_limit_then_says_how_long_to_wait(void**) {
    RateLimiter limiter(3, 60);
    for (int i = 0; i < 3; ++i) {
        assert_int_equal(limiter.retry_after("k", 100 + i), 0);
        limiter.record("k", 100 + i);
    }
    assert_int_equal(limiter.retry_after("k", 110), 50);  // the first event leaves at 160
    assert_int_equal(limiter.retry_after("k", 160), 0);
}

static void keys_are_independent(void**) {
    RateLimiter limiter(1, 60);
    limiter.record("a", 100);
    assert_true(limiter.retry_after("a", 100) > 0);
    assert_int_equal(limiter.retry_after("b", 100), 0);
}

static void sweep_forgets_quiet_keys(void**) {
    RateLimiter limiter(1, 60);
    limiter.record("a", 100);
    limiter.sweep(200);
    assert_int_equal(limiter.retry_after("a", 200), 0);
}

static void take_counts_only_what_it_allows_and_give_back_undoes_it(void**) {
    RateLimiter limiter(2, 60);
    assert_int_equal(limiter.take("k", 100), 0);
    assert_int_equal(limiter.take("k", 101), 0);
    assert_int_equal(limiter.take("k", 102), 58);  // refused: nothing counted
    limiter.give_back("k", 101);
    assert_int_equal(limiter.take("k", 103), 0);
    assert_int_equal(limiter.retry_after("k", 104), 56);
    limiter.give_back("k", 999);  // nothing taken then: nothing to give back
    assert_int_equal(limiter.retry_after("k", 104), 56);
}

int main() {
    const CMUnitTest tests[] = {
        cmocka_unit_test(allows_the_limit_then_says_how_long_to_wait),
        cmocka_unit_test(keys_are_independent),
        cmocka_unit_test(sweep_forgets_quiet_keys),
        cmocka_unit_test(take_counts_only_what_it_allows_and_give_back_undoes_it),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
