// SPDX-License-Identifier: BSD-2-Clause
// The bench's users are no system accounts (thousands would be needed), but pam_twofactor asks
// NSS for each login's account. pam_bench answers getpwnam_r itself for the names it was given
// and hands every other name to the C library; the executable exports it (ENABLE_EXPORTS), so
// the modules libpam loads bind to it.
#pragma once

#include <vector>

#include "bench_login.h"

namespace twofactor::bench {

// Call before the workers fork; they inherit the names.
void add_bench_accounts(const std::vector<BenchUser>& users);

}  // namespace twofactor::bench
