// SPDX-License-Identifier: BSD-2-Clause
// A flood of refused connections writes a line per address every RefusalLog::kEvery, saying how
// many it held back, and remembers a bounded number of addresses.
#include <chrono>
#include <string>

#include "daemon/runtime/refusal_log.h"

// cmocka last: its fail() macro would clash with std::ios::fail(). Its 1.1 header leaves
// print_message()/print_error() without C linkage, hence the extern "C".
#include <csetjmp>
#include <cstdarg>
#include <cstddef>
#include <cstdint>
extern "C" {
#include <cmocka.h>
}

using twofactor::RefusalLog;
using namespace std::chrono_literals;

namespace {

const RefusalLog::Clock::time_point kStart = RefusalLog::Clock::time_point{} + 1000h;

void the_first_line_of_an_address_is_written_then_one_every_period(void**) {
    RefusalLog log;
    auto first = log.admit("192.0.2.1", kStart);
    assert_true(first.has_value());
    assert_int_equal(*first, 0);
    for (int i = 1; i <= 999; ++i)
        assert_false(log.admit("192.0.2.1", kStart + i * 1ms).has_value());
    auto next = log.admit("192.0.2.1", kStart + RefusalLog::kEvery);
    assert_true(next.has_value());
    assert_int_equal(*next, 999);  // the line says how many were held back
    assert_false(log.admit("192.0.2.1", kStart + RefusalLog::kEvery + 1s).has_value());
}

void addresses_are_counted_apart(void**) {
    RefusalLog log;
    assert_true(log.admit("192.0.2.1", kStart).has_value());
    assert_false(log.admit("192.0.2.1", kStart + 1s).has_value());
    // Another address's first line is not held back by the flood of the first.
    assert_true(log.admit("198.51.100.7", kStart + 1s).has_value());
}

void a_flood_from_many_addresses_is_bounded(void**) {
    RefusalLog log;
    std::size_t written = 0;
    for (std::size_t i = 0; i < 3 * RefusalLog::kAddresses; ++i)
        if (log.admit("addr" + std::to_string(i), kStart + i * 1us)) ++written;
    // One line per remembered address, and one for all the rest together.
    assert_int_equal(written, RefusalLog::kAddresses + 1);
    // Once the remembered ones are quiet for a period, new addresses are remembered again.
    assert_true(log.admit("fresh", kStart + RefusalLog::kEvery + 1s).has_value());
    assert_true(log.admit("fresh2", kStart + RefusalLog::kEvery + 1s).has_value());
}

}  // namespace

int main() {
    const CMUnitTest tests[] = {
        cmocka_unit_test(the_first_line_of_an_address_is_written_then_one_every_period),
        cmocka_unit_test(addresses_are_counted_apart),
        cmocka_unit_test(a_flood_from_many_addresses_is_bounded),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
