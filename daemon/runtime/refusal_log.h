// SPDX-License-Identifier: BSD-2-Clause
// Lines about connections a server's TLS port refused (a failed handshake, one cut off by its
// timeout, a host not in hosts_file): the first from an address is written, then at most one
// every kEvery with how many were held back. A flood of bad handshakes from the network would
// otherwise fill the journal's rate limit for the service, and the audit lines share it.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>

namespace twofactor {

class RefusalLog {
public:
    using Clock = std::chrono::steady_clock;
    static constexpr auto kEvery = std::chrono::seconds(10);
    // Addresses remembered at most; beyond it, addresses not seen for kEvery are forgotten, and
    // while all are recent a new address's lines are held back like a known one's.
    static constexpr std::size_t kAddresses = 4096;

    // Whether to write a line about `network` now: nullopt to hold it back, else how many lines
    // about it were held back since the last one written.
    std::optional<std::uint64_t> admit(const std::string& network, Clock::time_point now);

private:
    struct Entry {
        Clock::time_point written;
        std::uint64_t held = 0;
    };
    void forget_old(Clock::time_point now);

    std::unordered_map<std::string, Entry> entries_;
    Entry crowd_;  // every address not remembered, once kAddresses are
};

}  // namespace twofactor
