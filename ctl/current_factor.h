// SPDX-License-Identifier: BSD-2-Clause
// The code of the second factor a user has now, which a non-root user gives to disable it or to
// enable another over it: from an option, or typed at a prompt after a challenge sent it.
#pragma once

#include <string>
#include <string_view>

#include "common/protocol.h"
#include "ctl/arguments.h"
#include "ctl/session.h"

namespace twofactor::ctl {

// Puts the code into `request` as `field` (with `twoFactorId` when a challenge sent it). Taken
// from --OPTION (and --two-factor-id) when given; else, for a non-root caller whose account is
// enabled, a challenge is started (a text, or the app) and the code asked for. Returns 0, or the
// exit status of a daemon error it has already reported. Throws UsageError when no code comes.
int add_current_factor_code(Session& session, const Invocation& inv, const std::string& user,
                            std::string_view option, const char* field, protocol::json& request);

}  // namespace twofactor::ctl
