// SPDX-License-Identifier: BSD-2-Clause
// The commands, one function each: build the request, call the daemon, print the answer.
#pragma once

#include <string>

#include "ctl/arguments.h"
#include "ctl/session.h"

namespace twofactor::ctl {

// Runs the parsed command and returns the exit status. Throws UsageError and Unreachable.
int run_command(const Invocation& invocation);

// The login name of the real uid (the user a command acts on when none is named). Throws
// UsageError when the uid has no name.
std::string caller_user_name();

// enroll.cpp: interactive self-service set-up.
int run_enroll(Session& session, const Invocation& invocation);

}  // namespace twofactor::ctl
