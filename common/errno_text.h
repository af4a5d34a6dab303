// SPDX-License-Identifier: BSD-2-Clause
// The words for an errno value, for messages that say what failed, with which value, and why
// ("cannot bind /run/twofactord/socket: Permission denied"). sd-event returns -errno: pass -r.
#pragma once

#include <cstring>
#include <string>

namespace twofactor {

inline std::string errno_text(int error_number) {
    return std::strerror(error_number);
}

}  // namespace twofactor
