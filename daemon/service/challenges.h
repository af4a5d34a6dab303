// SPDX-License-Identifier: BSD-2-Clause
// Login challenges (FusionAuth's twoFactorId, see doc/protocol.md), kept in the store so that a
// restarted daemon, or another host of the fleet, finds them: bounded per user, each with its own
// lifetime, attempt count and the step whose code was texted for it.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>

#include "daemon/store/store.h"

namespace twofactor {

class Challenges {
public:
    // At most this many open challenges per user; a new one evicts that user's oldest.
    static constexpr std::size_t kPerUser = 8;

    explicit Challenges(Store& store) : store_(store) {}

    // Stores a challenge with a fresh 128-bit random id and returns it. Throws on RNG failure.
    Challenge create(const std::string& user, Delivery delivery, std::int64_t now,
                     std::int64_t lifetime, int attempts, int resends,
                     std::optional<std::uint64_t> texted_step = std::nullopt,
                     const std::string& ip_address = {}, const std::string& service = {},
                     const TrustRequest& trust = {});

    // The live challenge with this id; an expired one is dropped and nullopt returned.
    std::optional<Challenge> find(const std::string& id, std::int64_t now);

    void erase(const std::string& id);
    void erase_user(const std::string& user);
    void expire(std::int64_t now);

    // The steps the user's open challenges hold (so that two logins close together never get
    // the same code).
    std::set<std::uint64_t> reserved_steps(const std::string& user);

    std::size_t size() { return static_cast<std::size_t>(store_.count_challenges()); }

private:
    Store& store_;
};

}  // namespace twofactor
