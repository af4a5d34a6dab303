// SPDX-License-Identifier: BSD-2-Clause
#include "daemon/service/challenges.h"

#include <openssl/rand.h>

#include <stdexcept>
#include <string>

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

Challenge Challenges::create(const std::string& user, Delivery delivery, std::int64_t now,
                             std::int64_t lifetime, int attempts, int resends,
                             std::optional<std::uint64_t> texted_step,
                             const std::string& ip_address, const std::string& service,
                             const TrustRequest& trust) {
    // Only this user's: a sweep of every open challenge on each login would cost O(all of
    // them); housekeeping sweeps the rest every minute, and find() drops what it meets expired.
    auto open = store_.challenges_of(user);
    std::size_t live = 0;
    const Challenge* oldest = nullptr;
    for (const auto& c : open) {
        if (c.expires_at <= now) {
            store_.delete_challenge(c.id);
            continue;
        }
        ++live;
        if (oldest == nullptr || c.expires_at < oldest->expires_at) oldest = &c;
    }
    if (live >= kPerUser && oldest != nullptr) store_.delete_challenge(oldest->id);

    Challenge c;
    c.id = random_id();  // 128 random bits: a collision is not a case to handle
    c.user = user;
    c.delivery = delivery;
    c.texted_step = texted_step;
    c.expires_at = now + lifetime;
    c.attempts_left = attempts;
    c.resends_left = resends;
    c.ip_address = ip_address;
    c.service = service;
    c.trust_seconds = trust.seconds;
    c.origin = trust.origin;
    store_.put_challenge(c);
    return c;
}

std::optional<Challenge> Challenges::find(const std::string& id, std::int64_t now) {
    auto c = store_.get_challenge(id);
    if (!c) return std::nullopt;
    if (c->expires_at <= now) {
        store_.delete_challenge(id);
        return std::nullopt;
    }
    return c;
}

void Challenges::erase(const std::string& id) {
    store_.delete_challenge(id);
}

void Challenges::erase_user(const std::string& user) {
    store_.delete_challenges_of(user);
}

void Challenges::expire(std::int64_t now) {
    store_.expire_challenges(now);
}

std::set<std::uint64_t> Challenges::reserved_steps(const std::string& user) {
    std::set<std::uint64_t> steps;
    for (const auto& c : store_.challenges_of(user)) {
        if (c.texted_step) steps.insert(*c.texted_step);
    }
    return steps;
}

}  // namespace twofactor
