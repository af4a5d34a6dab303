// SPDX-License-Identifier: BSD-2-Clause
#include "daemon/store/import.h"

namespace twofactor {

ImportCounts import_store(const Store& from, Store& to) {
    ImportCounts counts;
    for (const auto& user : from.enrolled_users()) {
        auto enrollment = from.get_enrollment(user);
        if (!enrollment) continue;  // removed while we read
        if (to.get_enrollment(user)) {
            ++counts.enrollments_kept;
            continue;
        }
        to.put_enrollment(*enrollment);
        ++counts.enrollments;
    }
    for (const auto& [user, step] : from.used_steps()) {
        if (to.use_step(user, step))
            ++counts.steps;
        else
            ++counts.steps_kept;
    }
    for (const auto& [user, state] : from.all_failures()) {
        const FailureState there = to.get_failures(user);
        if (there.failures != 0 || there.locked_until != 0 || there.first_failure != 0) {
            ++counts.failures_kept;
            continue;
        }
        to.put_failures(user, state);
        ++counts.failures;
    }
    for (const auto& [user, set] : from.all_recovery_codes()) {
        if (to.recovery_salt(user)) {
            ++counts.recovery_sets_kept;
            continue;
        }
        to.replace_recovery_codes(user, set);
        ++counts.recovery_sets;
    }
    for (const Trust& trust : from.all_trusts()) {
        // Enabling an enrollment ends the user's trusts: one made before the enrollment the
        // target holds was made under another factor, and is not carried over.
        const auto enrollment = to.get_enrollment(trust.user);
        if (!enrollment || trust.created_at < enrollment->enabled_at) continue;
        // Copied with the host that made it, where alone it is honoured.
        if (to.get_trust(trust.user, trust.service, trust.origin, trust.host)) {
            ++counts.trusts_kept;
            continue;
        }
        to.put_trust(trust);
        ++counts.trusts;
    }
    return counts;
}

std::string describe(const ImportCounts& c) {
    auto part = [](const char* what, std::int64_t copied, std::int64_t kept) {
        return std::string(what) + ": " + std::to_string(copied) + " copied, " +
               std::to_string(kept) + " already there";
    };
    return part("enrollments", c.enrollments, c.enrollments_kept) + "; " +
           part("used steps", c.steps, c.steps_kept) + "; " +
           part("failure counts and lockouts", c.failures, c.failures_kept) + "; " +
           part("users' recovery codes", c.recovery_sets, c.recovery_sets_kept) + "; " +
           part("trusts", c.trusts, c.trusts_kept);
}

}  // namespace twofactor
