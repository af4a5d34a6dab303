// SPDX-License-Identifier: BSD-2-Clause
#include "pam/log.h"

#include <security/pam_ext.h>

namespace twofactor::pam {

void log(pam_handle_t* pamh, int priority, const std::string& text) {
    pam_syslog(pamh, priority, "%s", text.c_str());
}

std::string printable(std::string_view text, std::size_t limit) {
    std::string out;
    out.reserve(text.size() < limit ? text.size() : limit);
    for (char c : text.substr(0, limit)) {
        const auto byte = static_cast<unsigned char>(c);
        out.push_back(byte >= 0x20 && byte < 0x7f ? c : '?');
    }
    if (text.size() > limit) out += "...";
    return out;
}

}  // namespace twofactor::pam
