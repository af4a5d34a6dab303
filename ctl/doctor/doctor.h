// SPDX-License-Identifier: BSD-2-Clause
// `twofactorctl doctor`: every way in that skips the second factor, from the PAM stacks, sshd,
// sudoers, polkit, the module's options and the daemon. Exit 0 when nothing is found, 1 when
// something is, 2 on a usage error (or when not run as root).
#pragma once

#include "ctl/arguments.h"

namespace twofactor::ctl {

int run_doctor(const Invocation& invocation);

}  // namespace twofactor::ctl
