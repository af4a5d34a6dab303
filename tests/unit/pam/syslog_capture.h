// SPDX-License-Identifier: BSD-2-Clause
// Catches what libpam's pam_syslog() writes, so tests can read the module's log lines. libpam
// calls glibc's __syslog_chk; the test program defines it, and the dynamic linker binds libpam
// to that definition instead of glibc's.
#pragma once

#include <string>
#include <vector>

namespace twofactor::test {

struct LogLine {
    int priority;  // without the facility
    std::string text;
};

std::vector<LogLine> captured_log();
void clear_captured_log();

// True when any captured line contains `text`.
bool log_contains(const std::string& text);

}  // namespace twofactor::test
