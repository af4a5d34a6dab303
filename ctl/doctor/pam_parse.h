// SPDX-License-Identifier: BSD-2-Clause
// Reads one service's auth stack into the flat list of module lines libpam runs, with each
// control turned into libpam's [value=action] form. Include loops, unreadable and missing files
// become warnings, never a hang.
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <vector>

#include "ctl/doctor/findings.h"
#include "ctl/doctor/tree.h"

namespace twofactor::ctl::doctor {

struct PamEntry {
    // "success" -> "ok", "default" -> "bad", ...; every control in libpam's bracket form.
    std::map<std::string, std::string> actions;
    std::string control;  // as written, for messages
    std::string module;   // the module's file name without its directory ("pam_unix.so")
    std::vector<std::string> arguments;
    std::string file;
    int line = 0;
    // Where "done" (or sufficient) lands: the end of the substack this line sits in, or the
    // end of the whole stack.
    std::size_t frame_end = 0;
    bool is_twofactor() const { return module == "pam_twofactor.so"; }
    // The action for a module result; the "default" action when the value is not listed.
    std::string action_for(const std::string& value) const;
};

struct PamStack {
    std::string service_file;  // the file the service was read from, empty when none exists
    int first_auth_line = 0;   // its first auth line (a place to point at)
    // A file is missing, unreadable or includes itself: libpam refuses every login through it.
    bool refused = false;
    std::vector<PamEntry> entries;
};

// Where libpam finds a service's file: /etc/pam.d, then /usr/lib/pam.d. Empty when neither.
std::string pam_service_file(const Tree& tree, const std::string& name);

// The service's auth stack. Problems reading it are added to `findings` (once per file and line).
PamStack read_auth_stack(const Tree& tree, const std::string& service, Findings& findings);

}  // namespace twofactor::ctl::doctor
