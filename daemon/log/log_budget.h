// SPDX-License-Identifier: BSD-2-Clause
// Log lines a non-root caller causes (surplus connections, malformed messages, challenges) are
// limited per uid and minute, so a local user cannot fill the disk or bury other lines. Lines
// past the budget are held back; one line says so when it starts, and one says how many were
// held back when that uid's minute is over. Root's lines are never held back: every login runs
// as root, and its lines are the audit trail.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <unordered_map>

namespace twofactor {

class LogBudget {
public:
    LogBudget(int lines, std::int64_t window_seconds) : lines_(lines), window_(window_seconds) {}

    // Whether a line caused by `uid` may be written now; may itself log the two lines above.
    bool admit(uid_t uid, std::int64_t now);
    // Reports and forgets the windows that are over.
    void sweep(std::int64_t now);

private:
    struct Window {
        std::int64_t start = 0;
        int lines = 0;
        std::int64_t held_back = 0;
    };
    static void report(uid_t uid, const Window& window);

    int lines_;
    std::int64_t window_;
    std::unordered_map<uid_t, Window> windows_;
};

namespace log {

// The daemon's one budget, on the monotonic clock: set once at start, used by every caller-caused
// line (`if (log::from_caller(uid)) log::info(...)`), swept by the housekeeping.
void limit_callers(int lines_per_minute);
bool from_caller(uid_t uid);
void sweep_callers();

}  // namespace log
}  // namespace twofactor
