// SPDX-License-Identifier: BSD-2-Clause
#include "daemon/service/host_id.h"

#include <systemd/sd-id128.h>
#include <unistd.h>

#include <array>
#include <climits>

#include "common/errno_text.h"
#include "daemon/log/log.h"

namespace twofactor {
namespace {

// Fixed for twofactord: another application's hash of the same machine ID says nothing of this.
constexpr sd_id128_t kApplication =
    SD_ID128_MAKE(94, 87, 57, ae, 09, 49, 4c, fd, 83, c9, 37, 8a, 67, a7, be, f8);

}  // namespace

std::string host_name() {
    std::array<char, HOST_NAME_MAX + 1> name{};
    if (::gethostname(name.data(), name.size() - 1) != 0 || name[0] == '\0') return "localhost";
    return std::string(name.data());
}

std::string trust_host_id(const TrustSettings& trust) {
    if (!trust.host_id.empty()) return trust.host_id;
    const std::string name = host_name();
    sd_id128_t id{};
    const int r = sd_id128_get_machine_app_specific(kApplication, &id);
    if (r < 0) {
        log::warning("no machine ID: trusts are bound to the host name alone",
                     {{"host", name}, {"error", errno_text(-r)}});
        return name;
    }
    char hex[SD_ID128_STRING_MAX];
    sd_id128_to_string(id, hex);
    return name + ":" + std::string(hex, 16);
}

}  // namespace twofactor
