// SPDX-License-Identifier: BSD-2-Clause
#include "syslog_capture.h"

#include <cstdarg>
#include <cstdio>
#include <mutex>

namespace twofactor::test {
namespace {

std::mutex lock;
std::vector<LogLine> lines;

void record(int priority, const char* format, va_list arguments) {
    char text[2048];
    std::vsnprintf(text, sizeof(text), format, arguments);
    std::lock_guard guard(lock);
    lines.push_back({priority & 7, text});
}

}  // namespace

std::vector<LogLine> captured_log() {
    std::lock_guard guard(lock);
    return lines;
}

void clear_captured_log() {
    std::lock_guard guard(lock);
    lines.clear();
}

bool log_contains(const std::string& text) {
    for (const auto& line : captured_log())
        if (line.text.find(text) != std::string::npos) return true;
    return false;
}

}  // namespace twofactor::test

// The format comes from libpam ("%s %s"); it is not ours to check.
#pragma GCC diagnostic ignored "-Wformat-nonliteral"

extern "C" void __syslog_chk(int priority, int, const char* format, ...) {
    va_list arguments;
    va_start(arguments, format);
    twofactor::test::record(priority, format, arguments);
    va_end(arguments);
}

extern "C" void __vsyslog_chk(int priority, int, const char* format, va_list arguments) {
    twofactor::test::record(priority, format, arguments);
}
