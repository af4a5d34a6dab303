// SPDX-License-Identifier: BSD-2-Clause
// Both log sinks: control characters in any field or message are escaped (no forged lines, in
// the journal or on stderr), and the audit fields reach the journal under the names an
// administrator filters on (USER=, RHOST=, SERVICE=, TWOFACTOR_EVENT=).
#include <algorithm>
#include <csetjmp>
#include <cstdarg>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "daemon/log/log_format.h"

extern "C" {
#include <cmocka.h>
}

namespace log = twofactor::log;

namespace {

const std::string kForged =
    "198.51.100.1\ntwofactord: notice: two-factor login succeeded user=root";

bool has(const std::vector<std::string>& fields, const std::string& field) {
    return std::find(fields.begin(), fields.end(), field) != fields.end();
}

void control_characters_are_escaped(void**) {
    assert_string_equal(log::escape("a\nb\rc\td\x1b\x7f").c_str(), "a\\x0ab\\x0dc\\x09d\\x1b\\x7f");
    // A backslash is escaped too, so "\x0a" typed by a caller cannot pass for an escaped newline.
    assert_string_equal(log::escape("\\x0a").c_str(), "\\\\x0a");
    assert_string_equal(log::escape("alice 203.0.113.9 ü").c_str(), "alice 203.0.113.9 ü");
}

void the_stderr_line_stays_one_line(void**) {
    std::string line = log::stderr_line(log::Level::Warning, "wrong\ncode",
                                        {{"user", "alice"}, {"rhost", kForged}, {"k\ney", "v"}});
    assert_int_equal(std::count(line.begin(), line.end(), '\n'), 1);
    assert_true(line.back() == '\n');
    assert_string_equal(line.c_str(),
                        "twofactord: warning: wrong\\x0acode user=alice rhost=198.51.100.1\\x0a"
                        "twofactord: notice: two-factor login succeeded user=root k\\x0aey=v\n");
}

void journal_fields_are_escaped_and_named_for_filtering(void**) {
    auto fields = log::journal_fields(log::Level::Warning, "account locked\n",
                                      {{"event", "lockout"},
                                       {"user", "alice"},
                                       {"rhost", kForged},
                                       {"service", "sshd"},
                                       {"failures", "10"}});
    assert_true(has(fields, "MESSAGE=account locked\\x0a"));
    assert_true(has(fields, "PRIORITY=4"));
    assert_true(has(fields, "SYSLOG_IDENTIFIER=twofactord"));
    assert_true(has(fields, "TWOFACTOR_EVENT=lockout"));
    assert_true(has(fields, "USER=alice"));
    assert_true(has(fields, "SERVICE=sshd"));
    assert_true(has(fields, "TWOFACTOR_FAILURES=10"));
    assert_true(has(fields,
                    "RHOST=198.51.100.1\\x0atwofactord: notice: two-factor login "
                    "succeeded user=root"));
    for (const auto& field : fields) assert_true(field.find('\n') == std::string::npos);
}

}  // namespace

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(control_characters_are_escaped),
        cmocka_unit_test(the_stderr_line_stays_one_line),
        cmocka_unit_test(journal_fields_are_escaped_and_named_for_filtering),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
