// SPDX-License-Identifier: BSD-2-Clause
#include "daemon/runtime/refusal_log.h"

namespace twofactor {
namespace {

std::optional<std::uint64_t> take(auto& entry, bool fresh, RefusalLog::Clock::time_point now) {
    if (!fresh && now - entry.written < RefusalLog::kEvery) {
        ++entry.held;
        return std::nullopt;
    }
    const std::uint64_t held = entry.held;
    entry.written = now;
    entry.held = 0;
    return held;
}

}  // namespace

std::optional<std::uint64_t> RefusalLog::admit(const std::string& network, Clock::time_point now) {
    if (auto it = entries_.find(network); it != entries_.end()) return take(it->second, false, now);
    if (entries_.size() >= kAddresses) forget_old(now);
    if (entries_.size() >= kAddresses) {
        const bool first = crowd_.written == Clock::time_point{};
        return take(crowd_, first, now);
    }
    return take(entries_[network], true, now);
}

void RefusalLog::forget_old(Clock::time_point now) {
    // An address quiet for kEvery loses its count of lines held back: a line about it is due
    // at once anyway, and remembering every address of a flood would grow without bound.
    std::erase_if(entries_,
                  [now](const auto& entry) { return now - entry.second.written >= kEvery; });
}

}  // namespace twofactor
