// SPDX-License-Identifier: BSD-2-Clause
#include "daemon/log/log_budget.h"

#include <time.h>

#include <memory>
#include <mutex>
#include <string>

#include "daemon/log/log.h"

namespace twofactor {

bool LogBudget::admit(uid_t uid, std::int64_t now) {
    if (uid == 0) return true;
    auto [it, created] = windows_.try_emplace(uid);
    Window& window = it->second;
    if (created || now - window.start >= window_) {
        if (!created) report(uid, window);
        window = Window{now, 0, 0};
    }
    if (window.lines < lines_) {
        ++window.lines;
        return true;
    }
    if (window.held_back++ == 0)
        log::warning("holding back further log lines caused by uid " + std::to_string(uid) +
                         " until its minute is over",
                     {{"uid", std::to_string(uid)}});
    return false;
}

void LogBudget::sweep(std::int64_t now) {
    for (auto it = windows_.begin(); it != windows_.end();) {
        if (now - it->second.start < window_) {
            ++it;
            continue;
        }
        report(it->first, it->second);
        it = windows_.erase(it);
    }
}

void LogBudget::report(uid_t uid, const Window& window) {
    if (window.held_back == 0) return;
    log::notice("held back " + std::to_string(window.held_back) + " log lines caused by uid " +
                    std::to_string(uid),
                {{"uid", std::to_string(uid)}, {"suppressed", std::to_string(window.held_back)}});
}

namespace log {
namespace {

constexpr std::int64_t kWindowSeconds = 60;
std::unique_ptr<LogBudget> g_budget;
// Callers' lines are counted from every worker.
std::mutex g_budget_mutex;
thread_local std::optional<uid_t> t_caller;

std::int64_t monotonic_seconds() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<std::int64_t>(ts.tv_sec);
}

}  // namespace

void limit_callers(int lines_per_minute) {
    g_budget = std::make_unique<LogBudget>(lines_per_minute, kWindowSeconds);
}

bool from_caller(uid_t uid) {
    std::lock_guard lock(g_budget_mutex);
    return !g_budget || g_budget->admit(uid, monotonic_seconds());
}

void sweep_callers() {
    std::lock_guard lock(g_budget_mutex);
    if (g_budget) g_budget->sweep(monotonic_seconds());
}

CallerScope::CallerScope(uid_t uid) : outer_(t_caller) {
    t_caller = uid;
}

CallerScope::~CallerScope() {
    t_caller = outer_;
}

std::optional<uid_t> caller_in_scope() {
    return t_caller;
}

bool scope_admits_line() {
    if (!t_caller) return true;
    // The budget's own lines ("holding back ...") are written outside the scope: they are
    // never held back, and asking again from inside would take the budget's lock twice.
    struct Unattributed {
        uid_t uid;
        explicit Unattributed(uid_t u) : uid(u) { t_caller.reset(); }
        ~Unattributed() { t_caller = uid; }
    } unattributed(*t_caller);
    return from_caller(unattributed.uid);
}

}  // namespace log
}  // namespace twofactor
