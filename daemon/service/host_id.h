// SPDX-License-Identifier: BSD-2-Clause
// The name this host's trusts are bound to. A trust made on one host of a fleet must not let a
// login on another skip the code: the origin of sudo and su is a terminal name (`/dev/pts/0`)
// that every host has, and an RHOST means "from there to this host", not to any host.
#pragma once

#include <string>

#include "daemon/config/settings.h"

namespace twofactor {

// [trust] host_id when set. Otherwise "HOSTNAME:ID", where ID is 16 hex digits of the machine ID
// hashed for this application (sd_id128_get_machine_app_specific, as machine-id(5) asks: the
// machine ID itself is confidential). The machine ID tells apart hosts that share a name; the
// name tells apart clones that share a machine ID and shows in `twofactorctl status`. Renaming
// the host or a new machine ID ends its trusts (the code is asked once more). Without a
// machine ID, the host name alone, with a warning.
std::string trust_host_id(const TrustSettings& trust);

// This machine's host name (gethostname), "localhost" when it has none.
std::string host_name();

}  // namespace twofactor
