// SPDX-License-Identifier: BSD-2-Clause
// Recovery codes at the command line.
#pragma once

#include "ctl/commands.h"
#include "ctl/output.h"

namespace twofactor::ctl {

// Prints `recoveryCodes` of a reply, with what they are for; nothing when there are none.
void print_recovery_codes(const json& parameters);

// `recovery-codes [USER] [--code C [--two-factor-id ID]]`: replaces the user's set.
int run_recovery_codes(Session& session, const Invocation& inv);

}  // namespace twofactor::ctl
