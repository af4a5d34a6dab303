// SPDX-License-Identifier: BSD-2-Clause
#include "daemon/service/limits.h"

#include <algorithm>

namespace twofactor {

std::int64_t RateLimiter::retry_after(const std::string& key, std::int64_t now) {
    auto it = events_.find(key);
    if (it == events_.end()) return 0;
    auto& times = it->second;
    while (!times.empty() && times.front() <= now - window_) times.pop_front();
    if (static_cast<int>(times.size()) < limit_) return 0;
    return times.front() + window_ - now;
}

void RateLimiter::record(const std::string& key, std::int64_t now) {
    auto& times = events_[key];
    times.push_back(now);
    while (static_cast<int>(times.size()) > limit_) times.pop_front();
}

std::int64_t RateLimiter::take(const std::string& key, std::int64_t now) {
    const std::int64_t wait = retry_after(key, now);
    if (wait == 0) record(key, now);
    return wait;
}

void RateLimiter::give_back(const std::string& key, std::int64_t now) {
    auto it = events_.find(key);
    if (it == events_.end()) return;
    auto& times = it->second;
    auto at = std::find(times.rbegin(), times.rend(), now);
    if (at != times.rend()) times.erase(std::next(at).base());
    if (times.empty()) events_.erase(it);
}

void RateLimiter::sweep(std::int64_t now) {
    for (auto it = events_.begin(); it != events_.end();) {
        auto& times = it->second;
        while (!times.empty() && times.front() <= now - window_) times.pop_front();
        it = times.empty() ? events_.erase(it) : std::next(it);
    }
}

}  // namespace twofactor
