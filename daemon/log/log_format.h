// SPDX-License-Identifier: BSD-2-Clause
// What a log call becomes in each sink: the journal's fields and the stderr line. Every text a
// caller may have chosen (a remote host, a tty, a service, an ipAddress, an error message) is
// escaped here, so no one writes a line, or a field, of their own into the log.
#pragma once

#include <initializer_list>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/log/log.h"

namespace twofactor::log {

// Control characters (below 0x20, and 0x7f) become \xNN and a backslash becomes \\, so the
// text stays on one line and the escaping itself cannot be faked.
std::string escape(std::string_view text);

// MESSAGE=, PRIORITY=, SYSLOG_IDENTIFIER= and one field per entry of `fields`: the audit
// fields user, rhost and service become USER=, RHOST= and SERVICE= (what an administrator
// filters on), every other key KEY becomes TWOFACTOR_KEY= (so event is TWOFACTOR_EVENT=).
std::vector<std::string> journal_fields(Level level, std::string_view message,
                                        std::span<const Field> fields);
inline std::vector<std::string> journal_fields(Level level, std::string_view message,
                                               std::initializer_list<Field> fields) {
    return journal_fields(level, message, std::span<const Field>(fields.begin(), fields.size()));
}

// "twofactord: LEVEL: MESSAGE key=value ...\n".
std::string stderr_line(Level level, std::string_view message, std::span<const Field> fields);
inline std::string stderr_line(Level level, std::string_view message,
                               std::initializer_list<Field> fields) {
    return stderr_line(level, message, std::span<const Field>(fields.begin(), fields.size()));
}

}  // namespace twofactor::log
