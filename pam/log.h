// SPDX-License-Identifier: BSD-2-Clause
// Logging goes through pam_syslog only: the host program owns openlog(). Nothing logged here may
// carry a code, a secret or a full phone number.
#pragma once

#include <security/pam_modules.h>

#include <cstddef>
#include <string>
#include <string_view>

namespace twofactor::pam {

void log(pam_handle_t* pamh, int priority, const std::string& text);

// Text from the outside (user names, PAM_RHOST, PAM_TTY) made safe for a log line: control and
// non-ASCII bytes become '?', and it is cut at `limit` bytes, so nobody can forge log lines.
std::string printable(std::string_view text, std::size_t limit = 128);

}  // namespace twofactor::pam
