// SPDX-License-Identifier: BSD-2-Clause
// Copies one store into another (twofactord --import-sqlite): every enrollment, used step,
// failure count or lockout, recovery codes and trusts. What the target already holds wins and is
// counted, never replaced, so a second run changes nothing and a fleet's newer enrollment is not
// overwritten.
#pragma once

#include <cstdint>
#include <string>

#include "daemon/store/store.h"

namespace twofactor {

struct ImportCounts {
    std::int64_t enrollments = 0, enrollments_kept = 0;
    std::int64_t steps = 0, steps_kept = 0;
    std::int64_t failures = 0, failures_kept = 0;
    std::int64_t recovery_sets = 0, recovery_sets_kept = 0;  // one user's recovery codes each
    std::int64_t trusts = 0, trusts_kept = 0;
};

// Throws StoreError (an enrollment that does not decrypt: the source has another key).
ImportCounts import_store(const Store& from, Store& to);

// "enrollments: 3 copied, 0 already there; used steps: ...".
std::string describe(const ImportCounts& counts);

}  // namespace twofactor
