// SPDX-License-Identifier: BSD-2-Clause
// Locks per user, striped by the name's hash: what must not interleave for one user (choosing
// the step a new code uses and storing it in the challenge) waits only for that user's calls,
// and for the few others that share the stripe, never for the whole daemon.
#pragma once

#include <array>
#include <cstddef>
#include <functional>
#include <mutex>
#include <string>

namespace twofactor {

class UserLocks {
public:
    std::unique_lock<std::mutex> lock(const std::string& user) {
        return std::unique_lock(stripes_[std::hash<std::string>{}(user) % stripes_.size()]);
    }

private:
    std::array<std::mutex, 64> stripes_;
};

}  // namespace twofactor
