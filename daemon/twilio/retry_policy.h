// SPDX-License-Identifier: BSD-2-Clause
// When a failed text is worth another attempt, and how long to wait before it.
#pragma once

#include <chrono>
#include <optional>
#include <string_view>

namespace twofactor {

// Retry-After values above this are taken as this: the deadline decides anyway.
inline constexpr std::chrono::seconds kMaxRetryAfter{3600};

// Twilio did not take the message and says so: 429 Too Many Requests and 503 Service
// Unavailable are worth another attempt. Every other status is final: a 4xx will not change,
// and after a 500, 502 or 504 Twilio may have queued the text already (another attempt could
// text the user twice).
bool is_retryable_status(long http_status);

// After this status the text may still arrive (Twilio's gateway failed after taking it).
bool may_have_been_taken(long http_status);

// Retry-After in delta-seconds ("2"), capped at kMaxRetryAfter; nullopt for an HTTP date, an
// empty or malformed value (the backoff then decides alone).
std::optional<std::chrono::seconds> parse_retry_after(std::string_view value);

// The wait before the next attempt after `attempts_done` attempts (1 or more): backoff_initial
// doubled for each attempt after the first, capped at backoff_max, with "equal jitter" (between
// half and all of it, `jitter` in [0, 1]) so clients that failed together do not come back
// together; never shorter than Retry-After when Twilio gave one.
std::chrono::milliseconds retry_delay(int attempts_done, std::chrono::milliseconds backoff_initial,
                                      std::chrono::milliseconds backoff_max,
                                      std::optional<std::chrono::seconds> retry_after,
                                      double jitter);

}  // namespace twofactor
