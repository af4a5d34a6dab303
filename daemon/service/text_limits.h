// SPDX-License-Identifier: BSD-2-Clause
// The limits this host keeps in memory (the per-user hourly text count is the store's, shared by
// the fleet): texts per minute, setup texts per uid and per number, logins begun per user, and
// the setup codes texted per secret. One lock of its own, held for a check and its count
// together and never across a store call: calls on several workers are counted as if they came
// one after another, and none waits on another's database round trip.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "daemon/config/settings.h"
#include "daemon/service/limits.h"

namespace twofactor {

class TextLimits {
public:
    TextLimits(const SmsSettings& sms, const LoginSettings& login);

    // Each take counts one if the limit allows it now: 0 when taken, else the seconds until it
    // would be (nothing counted). give_back undoes a take of the same `now` that a later limit
    // refused.
    std::int64_t take_login_start(const std::string& user, std::int64_t now);
    std::int64_t take_text(std::int64_t now);
    void give_back_text(std::int64_t now);

    // A setup text's limits, all or none, checked in this order: the uid's enrollment texts
    // and the local users' half of the minute (not root's), the number's hour, the machine's
    // minute. The first that refuses, with its message.
    enum class SetupLimit { EnrollTexts, LocalMinute, Number, Minute };
    struct Refused {
        SetupLimit limit;
        std::int64_t wait;
        const char* message;
    };
    std::optional<Refused> take_setup_text(uid_t uid, const std::string& phone, std::int64_t now);
    void give_back_setup_text(uid_t uid, const std::string& phone, std::int64_t now);

    // The steps of the setup codes texted for a secret (keyed by its SHA-256) that live now.
    void remember_setup_code(const std::string& secret_digest, std::uint64_t step,
                             std::int64_t now);
    std::vector<std::uint64_t> setup_steps(const std::string& secret_digest, std::int64_t now);

    // Drops counts and setup codes that can no longer matter.
    void sweep(std::int64_t now);

private:
    static std::string number_key(uid_t uid, const std::string& phone);

    const std::int64_t code_lifetime_;
    std::mutex mutex_;
    RateLimiter enroll_texts_;       // per non-root uid enrolling itself, per hour
    RateLimiter number_texts_;       // per destination number, per hour: nobody's phone is flooded
    RateLimiter all_texts_;          // everything, per minute: the Twilio bill
    RateLimiter local_setup_texts_;  // local users' setup texts, per minute: half of all_texts_
    RateLimiter challenge_starts_;   // per user, per minute, any delivery
    // Setup codes texted per secret, with when they were sent.
    std::map<std::string, std::vector<std::pair<std::uint64_t, std::int64_t>>> setup_texts_;
};

}  // namespace twofactor
