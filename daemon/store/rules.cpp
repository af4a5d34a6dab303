// SPDX-License-Identifier: BSD-2-Clause
#include "daemon/store/rules.h"

#include <algorithm>

namespace twofactor {

FailureState next_failure_state(const FailureState& before, std::int64_t now,
                                const LockoutPolicy& policy) {
    const bool new_window = before.failures == 0 || now - before.first_failure >= policy.window;
    FailureState after = before;
    after.failures = new_window ? 1 : before.failures + 1;
    after.first_failure = new_window ? now : before.first_failure;
    if (after.failures >= policy.failures) after.locked_until = now + policy.duration;
    return after;
}

std::int64_t event_wait(const WindowCount& in_window, std::int64_t since, int limit) {
    if (in_window.count < limit) return 0;
    return std::max<std::int64_t>(in_window.oldest - since, 1);
}

std::int64_t advisory_lock_key(std::string_view kind, std::string_view name) {
    // FNV-1a over "kind:name": the same on every host and build, unlike std::hash.
    std::uint64_t hash = 14695981039346656037ull;
    auto mix = [&hash](std::string_view bytes) {
        for (unsigned char b : bytes) {
            hash ^= b;
            hash *= 1099511628211ull;
        }
    };
    mix(kind);
    mix(":");
    mix(name);
    return static_cast<std::int64_t>(hash >> 1);
}

}  // namespace twofactor
