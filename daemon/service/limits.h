// SPDX-License-Identifier: BSD-2-Clause
// Sliding-window counters for the text-message limits (per user, per uid, per number, in total).
#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <unordered_map>

namespace twofactor {

class RateLimiter {
public:
    RateLimiter(int limit, std::int64_t window_seconds) : limit_(limit), window_(window_seconds) {}

    // 0 if one more event is allowed now, else the seconds until it would be.
    std::int64_t retry_after(const std::string& key, std::int64_t now);
    void record(const std::string& key, std::int64_t now);
    // retry_after, and record when it is 0: one event taken if the limit allows it.
    std::int64_t take(const std::string& key, std::int64_t now);
    // Forgets one event recorded at `now` (a take that a later limit refused).
    void give_back(const std::string& key, std::int64_t now);
    // Drops keys with no event in the window, so the map does not grow without bound.
    void sweep(std::int64_t now);

private:
    int limit_;
    std::int64_t window_;
    std::unordered_map<std::string, std::deque<std::int64_t>> events_;
};

}  // namespace twofactor
