// SPDX-License-Identifier: BSD-2-Clause
#include "daemon/twilio/retry_policy.h"

#include <algorithm>
#include <cstdint>

namespace twofactor {

bool is_retryable_status(long http_status) {
    return http_status == 429 || http_status == 503;
}

bool may_have_been_taken(long http_status) {
    return http_status >= 500 && http_status <= 599 && http_status != 503;
}

std::optional<std::chrono::seconds> parse_retry_after(std::string_view value) {
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t'))
        value.remove_prefix(1);
    while (!value.empty() && (value.back() == ' ' || value.back() == '\t' || value.back() == '\r' ||
                              value.back() == '\n')) {
        value.remove_suffix(1);
    }
    if (value.empty()) return std::nullopt;
    std::int64_t seconds = 0;
    for (char c : value) {
        if (c < '0' || c > '9') return std::nullopt;
        // Saturate instead of overflowing: any huge number means "much later than we wait".
        if (seconds <= kMaxRetryAfter.count()) seconds = seconds * 10 + (c - '0');
    }
    return std::chrono::seconds(std::min<std::int64_t>(seconds, kMaxRetryAfter.count()));
}

std::chrono::milliseconds retry_delay(int attempts_done, std::chrono::milliseconds backoff_initial,
                                      std::chrono::milliseconds backoff_max,
                                      std::optional<std::chrono::seconds> retry_after,
                                      double jitter) {
    using std::chrono::milliseconds;
    milliseconds cap = std::max(backoff_max, milliseconds(0));
    milliseconds base = std::clamp(backoff_initial, milliseconds(0), cap);
    // Doubling stops at the cap, so the loop runs a few dozen times at most and never overflows.
    for (int i = 1; i < attempts_done && base < cap; ++i) {
        base = base.count() > cap.count() / 2 ? cap : base * 2;
    }
    if (!(jitter >= 0.0)) jitter = 0.0;  // also catches NaN
    jitter = std::min(jitter, 1.0);
    std::int64_t half = base.count() / 2;
    std::int64_t span = base.count() - half;
    // Compared in double but cast only below `span`, so rounding never overshoots or overflows.
    double scaled = jitter * static_cast<double>(span);
    std::int64_t offset =
        scaled >= static_cast<double>(span) ? span : static_cast<std::int64_t>(scaled);
    auto delay = milliseconds(half + offset);
    if (retry_after) delay = std::max(delay, milliseconds(*retry_after));
    return delay;
}

}  // namespace twofactor
