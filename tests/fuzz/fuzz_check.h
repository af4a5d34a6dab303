// SPDX-License-Identifier: BSD-2-Clause
// What every fuzz target shares: a check that stops the run with a message libFuzzer reports.
// Not assert(): the fuzz build is optimised with NDEBUG, and a broken invariant must still stop.
#pragma once

#include <cstdio>
#include <cstdlib>

#define FUZZ_CHECK(condition, what)                                                         \
    do {                                                                                    \
        if (!(condition)) {                                                                 \
            std::fprintf(stderr, "%s:%d: %s (%s)\n", __FILE__, __LINE__, what, #condition); \
            std::abort();                                                                   \
        }                                                                                   \
    } while (0)
