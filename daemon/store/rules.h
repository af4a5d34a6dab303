// SPDX-License-Identifier: BSD-2-Clause
// The decisions the store makes for rules that hold across hosts, written once for both
// backends. Each backend reads what it needs, asks these, and writes the answer back inside one
// transaction that no other daemon can interleave with (SQLite: BEGIN IMMEDIATE; PostgreSQL: a
// transaction-scoped advisory lock on the row's key).
#pragma once

#include <cstdint>
#include <string_view>

#include "daemon/store/store.h"

namespace twofactor {

// The failures after one more wrong code at `now`: a new window when there were none or the
// last window is over; a lock when the count reaches the policy's. A lock already running is
// kept until it ends.
FailureState next_failure_state(const FailureState& before, std::int64_t now,
                                const LockoutPolicy& policy);

// 0 when one more event fits among those counted since `since` (`limit` at most), else the
// seconds until the oldest of them leaves the window (at least 1).
std::int64_t event_wait(const WindowCount& in_window, std::int64_t since, int limit);

// The key of the transaction-scoped advisory lock that serialises PostgreSQL's read and write
// of one row (a user's failures, a key's events): a stable 63-bit hash of the name.
std::int64_t advisory_lock_key(std::string_view kind, std::string_view name);

}  // namespace twofactor
