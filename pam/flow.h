// SPDX-License-Identifier: BSD-2-Clause
// The second factor in one pam_sm_authenticate call: Begin (the daemon texts the code), prompt,
// Complete; `resend` texts the code again. Returns the PAM code of the outcome table.
#pragma once

#include <security/pam_modules.h>

#include "pam/options.h"

namespace twofactor::pam {

int authenticate(pam_handle_t* pamh, int flags, const Options& options);

}  // namespace twofactor::pam
