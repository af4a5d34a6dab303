#include "daemon/challenges.h"

#include <openssl/rand.h>

#include <stdexcept>
#include <string>
#include <vector>

namespace twofactor {
namespace {

std::string random_id() {
    unsigned char bytes[16];
    if (RAND_bytes(bytes, sizeof(bytes)) != 1)
        throw std::runtime_error("the random number generator failed");
    static constexpr char kAlphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    std::string id;
    // 16 bytes, 6 bits per character: 22 characters carry all 128 bits.
    unsigned int acc = 0;
    int bits = 0;
    for (unsigned char b : bytes) {
        acc = (acc << 8) | b;
        bits += 8;
        while (bits >= 6) {
            bits -= 6;
            id += kAlphabet[(acc >> bits) & 63];
        }
    }
    if (bits > 0) id += kAlphabet[(acc << (6 - bits)) & 63];
    return id;
}

}  // namespace

Challenge& Challenges::create(const std::string& user, Delivery delivery, std::int64_t now,
                              std::int64_t lifetime, int attempts, int resends) {
    // Only this user's: a sweep of every open challenge on each login would cost O(all of
    // them); housekeeping sweeps the rest every minute, and find() drops what it meets expired.
    expire_user(user, now);
    if (ids_by_user_.count(user) >= kPerUser) {
        std::string oldest_id;
        std::int64_t oldest = INT64_MAX;
        auto [first, last] = ids_by_user_.equal_range(user);
        for (auto it = first; it != last; ++it) {
            const auto& c = by_id_.at(it->second);
            if (c.expires_at < oldest) {
                oldest = c.expires_at;
                oldest_id = c.id;
            }
        }
        erase(oldest_id);
    }
    std::string id = random_id();
    while (by_id_.count(id)) id = random_id();
    Challenge c;
    c.id = id;
    c.user = user;
    c.delivery = delivery;
    c.expires_at = now + lifetime;
    c.attempts_left = attempts;
    c.resends_left = resends;
    ids_by_user_.emplace(user, id);
    return by_id_.emplace(id, std::move(c)).first->second;
}

Challenge* Challenges::find(const std::string& id, std::int64_t now) {
    auto it = by_id_.find(id);
    if (it == by_id_.end()) return nullptr;
    if (it->second.expires_at <= now) {
        erase(id);
        return nullptr;
    }
    return &it->second;
}

void Challenges::erase(const std::string& id) {
    auto it = by_id_.find(id);
    if (it == by_id_.end()) return;
    auto [first, last] = ids_by_user_.equal_range(it->second.user);
    for (auto u = first; u != last; ++u) {
        if (u->second == id) {
            ids_by_user_.erase(u);
            break;
        }
    }
    by_id_.erase(it);
}

void Challenges::erase_user(const std::string& user) {
    auto [first, last] = ids_by_user_.equal_range(user);
    for (auto it = first; it != last; ++it) by_id_.erase(it->second);
    ids_by_user_.erase(user);
}

void Challenges::expire(std::int64_t now) {
    for (auto it = by_id_.begin(); it != by_id_.end();) {
        if (it->second.expires_at <= now) {
            std::string id = it->first;
            ++it;
            erase(id);
        } else {
            ++it;
        }
    }
}

void Challenges::expire_user(const std::string& user, std::int64_t now) {
    std::vector<std::string> expired;
    auto [first, last] = ids_by_user_.equal_range(user);
    for (auto it = first; it != last; ++it) {
        if (by_id_.at(it->second).expires_at <= now) expired.push_back(it->second);
    }
    for (const auto& id : expired) erase(id);
}

bool Challenges::step_reserved(const std::string& user, std::uint64_t step) const {
    auto [first, last] = ids_by_user_.equal_range(user);
    for (auto it = first; it != last; ++it) {
        const auto& c = by_id_.at(it->second);
        if (c.texted_step && *c.texted_step == step) return true;
    }
    return false;
}

}  // namespace twofactor
