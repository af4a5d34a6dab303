// SPDX-License-Identifier: BSD-2-Clause
// The table of outcomes: every way an authentication can end, with the PAM code it returns, the
// sentence the user reads and how loudly it is logged. doc/pam_twofactor.8.md documents the same
// table, and a unit test holds the two together.
#pragma once

#include <cstdint>
#include <span>
#include <string>

namespace twofactor::pam {

enum class Outcome {
    Success,             // the daemon accepted the code
    Trusted,             // a trust (trust=) of this user, service and origin skipped the code
    NotEnrolledIgnored,  // not enrolled, and `nullok` was given
    OutsideGroups,       // none of the user's groups is inside `groups=`
    NotEnrolled,         // not enrolled, no `nullok`
    NoUser,              // PAM gave an empty user name
    UnknownUser,         // NSS knows no account of that name (or could not be asked)
    TooManyTries,        // `tries` wrong codes, or the daemon has no attempts left
    Expired,             // the challenge expired or was used up (NotFound)
    Locked,              // too many failures in a row (Locked)
    DeliveryFailed,      // the text could not be sent (DeliveryFailed)
    RateLimited,         // too many texts (RateLimited)
    PermissionDenied,    // the daemon refused this caller (PermissionDenied)
    Unreachable,         // no answer within `timeout`, failmode=secure; or an impostor socket
    UnreachableLetIn,    // no answer within `timeout`, failmode=safe
    DaemonFailed,        // the daemon answered InternalError
    ProtocolError,       // a reply the module does not understand, InvalidParameter, ...
    ConversationFailed,  // the application could not ask the user
};

struct OutcomeEntry {
    Outcome outcome;
    const char* name;  // the row's name in pam_twofactor(8)
    int pam_code;
    int log_priority;
};

// Values some sentences carry.
struct OutcomeDetails {
    std::int64_t locked_until = 0;  // Unix seconds, 0 when unknown
    std::int64_t retry_after = 0;   // seconds, 0 when unknown
};

std::span<const OutcomeEntry> all_outcomes();
const OutcomeEntry& describe(Outcome outcome);

// What the user reads; empty when the outcome says nothing (success, nullok, a broken
// conversation).
std::string sentence(Outcome outcome, const OutcomeDetails& details = {});
// "a moment", "45 seconds", "3 minutes": how long until something may be asked again.
std::string wait_time(std::int64_t seconds);

// "PAM_SUCCESS", "PAM_MAXTRIES", ... for logs, the man page test and the test driver.
const char* pam_code_name(int code);

}  // namespace twofactor::pam
