// Login challenges (FusionAuth's twoFactorId, see doc/protocol.md): in memory, bounded, each with
// its own lifetime, attempt count and the step whose code was texted for it.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>

#include "daemon/store/store.h"

namespace twofactor {

struct Challenge {
    std::string id;
    std::string user;
    Delivery delivery = Delivery::TextMessage;
    std::optional<std::uint64_t> texted_step;  // the step whose code was texted, if any
    std::int64_t expires_at = 0;               // Unix seconds
    int attempts_left = 0;
    int resends_left = 0;
    std::string ip_address;
    std::string service;  // the PAM service that began it, for the audit trail
};

class Challenges {
public:
    // At most this many open challenges per user; a new one evicts that user's oldest.
    static constexpr std::size_t kPerUser = 8;

    // Creates a challenge with a fresh 128-bit random id. Throws on RNG failure.
    Challenge& create(const std::string& user, Delivery delivery, std::int64_t now,
                      std::int64_t lifetime, int attempts, int resends);

    // The live challenge with this id; an expired one is dropped and nullptr returned.
    Challenge* find(const std::string& id, std::int64_t now);

    void erase(const std::string& id);
    void erase_user(const std::string& user);
    void expire(std::int64_t now);
    void expire_user(const std::string& user, std::int64_t now);

    // Whether an open challenge of the user holds this step (so that two logins close together
    // never get the same code).
    bool step_reserved(const std::string& user, std::uint64_t step) const;

    std::size_t size() const { return by_id_.size(); }

private:
    std::unordered_map<std::string, Challenge> by_id_;
    std::multimap<std::string, std::string> ids_by_user_;
};

}  // namespace twofactor
