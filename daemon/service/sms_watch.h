// SPDX-License-Identifier: BSD-2-Clause
// What this daemon watches of its texts' cost, in memory under one lock of its own (never held
// across a store call): the conversion of texted login challenges (Twilio's sign of SMS pumping:
// texts nobody uses), the country codes already enrolled (setup texts go only there), and how
// often a budget's refusal is journalled. The budgets themselves are counted in the store, so
// that a fleet shares them (Service::take_budget).
#pragma once

#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <set>
#include <string>

#include "daemon/service/limits.h"

namespace twofactor {

class SmsWatch {
public:
    // The conversion is judged over this many texted challenges that are over (completed, or
    // expired unused), and is low under kLowPercent completed.
    static constexpr std::size_t kWindow = 100;
    static constexpr int kLowPercent = 30;
    static constexpr std::int64_t kAlarmEvery = 3600;  // seconds between two alarms

    struct Conversion {
        std::size_t judged = 0;     // challenges over, of the last kWindow (at most kWindow)
        std::size_t completed = 0;  // of those, completed
    };

    // A login challenge whose code was texted; it is over once completed or at `expires_at`.
    void texted(const std::string& challenge_id, std::int64_t expires_at);
    void completed(const std::string& challenge_id);
    Conversion conversion(std::int64_t now);
    // The conversion when it is low over a whole window and no alarm was raised in the last
    // kAlarmEvery seconds (this call then counts as the alarm); nullopt otherwise.
    std::optional<Conversion> alarm(std::int64_t now);

    // Country codes of enrolled numbers, as last read from the store (`read_at`, 0 never).
    bool country_known(const std::string& country);
    void add_countries(const std::set<std::string>& countries, std::int64_t now);
    std::int64_t countries_read_at();

    // Whether a budget's refusal (`key`: the budget and prefix) is journalled now: once a
    // minute each, so that a pump does not bury the journal.
    bool journal_refusal(const std::string& key, std::int64_t now);

private:
    struct Entry {
        std::string id;
        std::int64_t expires_at = 0;
        bool completed = false;
    };
    Conversion conversion_locked(std::int64_t now) const;

    std::mutex mutex_;
    std::deque<Entry> texted_;  // oldest first, at most kKept
    static constexpr std::size_t kKept = 4 * kWindow;
    std::int64_t last_alarm_ = 0;
    std::set<std::string> countries_;
    std::int64_t countries_read_at_ = 0;
    RateLimiter refusal_lines_{1, 60};
};

}  // namespace twofactor
