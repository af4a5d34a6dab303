// SPDX-License-Identifier: BSD-2-Clause
// Log lines a non-root caller causes (surplus connections, malformed messages, and every line of
// its calls and of Twilio's answers to them) are limited per uid and minute, so a local user
// cannot fill the disk or bury other lines. Lines past the budget are held back; one line says
// so when it starts, and one says how many were held back when that uid's minute is over.
// Root's lines are never held back: every login runs as root, and its lines are the audit trail.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
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
// line, swept by the housekeeping. Outside a call (the server's lines about a connection) a line
// asks first: `if (log::from_caller(uid)) log::info(...)`.
void limit_callers(int lines_per_minute);
bool from_caller(uid_t uid);
void sweep_callers();

// While a thread serves a call (or runs a Twilio callback of one), every line it writes counts
// toward the caller's budget and is dropped past it: a line added to a method later is limited
// without anyone having to remember. Lines inside a scope must not ask from_caller as well.
// Scopes nest; root's limits nothing.
class CallerScope {
public:
    explicit CallerScope(uid_t uid);
    ~CallerScope();
    CallerScope(const CallerScope&) = delete;
    CallerScope& operator=(const CallerScope&) = delete;

private:
    std::optional<uid_t> outer_;
};

// The caller this thread serves now, if any (to carry into a callback).
std::optional<uid_t> caller_in_scope();
// For log::write: whether this thread's caller, if any, may write one more line.
bool scope_admits_line();

}  // namespace log
}  // namespace twofactor
