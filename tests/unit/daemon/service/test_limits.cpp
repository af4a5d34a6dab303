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

int main() {
    const CMUnitTest tests[] = {
        cmocka_unit_test(allows_the_limit_then_says_how_long_to_wait),
        cmocka_unit_test(keys_are_independent),
        cmocka_unit_test(sweep_forgets_quiet_keys),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
