// SPDX-License-Identifier: BSD-2-Clause
#include "pam/outcomes.h"

#include <security/_pam_types.h>
#include <syslog.h>

#include <array>

#include "common/wording.h"

namespace twofactor::pam {
namespace {

constexpr std::array kOutcomes{
    OutcomeEntry{Outcome::Success, "success", PAM_SUCCESS, LOG_INFO},
    OutcomeEntry{Outcome::Trusted, "trusted", PAM_SUCCESS, LOG_INFO},
    OutcomeEntry{Outcome::NotEnrolledIgnored, "not enrolled, nullok", PAM_IGNORE, LOG_INFO},
    OutcomeEntry{Outcome::OutsideGroups, "outside groups", PAM_IGNORE, LOG_DEBUG},
    OutcomeEntry{Outcome::NotEnrolled, "not enrolled", PAM_USER_UNKNOWN, LOG_NOTICE},
    OutcomeEntry{Outcome::NoUser, "no user name", PAM_USER_UNKNOWN, LOG_ERR},
    OutcomeEntry{Outcome::UnknownUser, "unknown user", PAM_USER_UNKNOWN, LOG_NOTICE},
    OutcomeEntry{Outcome::TooManyTries, "too many tries", PAM_MAXTRIES, LOG_WARNING},
    OutcomeEntry{Outcome::Expired, "challenge expired", PAM_AUTH_ERR, LOG_NOTICE},
    OutcomeEntry{Outcome::Locked, "locked", PAM_PERM_DENIED, LOG_WARNING},
    OutcomeEntry{Outcome::DeliveryFailed, "text not delivered", PAM_AUTHINFO_UNAVAIL, LOG_ERR},
    OutcomeEntry{Outcome::RateLimited, "rate limited", PAM_AUTH_ERR, LOG_WARNING},
    OutcomeEntry{Outcome::PermissionDenied, "permission denied", PAM_PERM_DENIED, LOG_ERR},
    OutcomeEntry{Outcome::Unreachable, "daemon unreachable, failmode=secure", PAM_AUTHINFO_UNAVAIL,
                 LOG_ERR},
    OutcomeEntry{Outcome::UnreachableLetIn, "daemon unreachable, failmode=safe", PAM_SUCCESS,
                 LOG_ERR},
    OutcomeEntry{Outcome::DaemonFailed, "daemon failed", PAM_AUTHINFO_UNAVAIL, LOG_ERR},
    OutcomeEntry{Outcome::ProtocolError, "protocol error", PAM_SERVICE_ERR, LOG_ERR},
    OutcomeEntry{Outcome::ConversationFailed, "conversation failed", PAM_CONV_ERR, LOG_ERR},
};

// describe() indexes the table by the enum's value.
constexpr bool table_in_enum_order() {
    for (std::size_t i = 0; i < kOutcomes.size(); ++i)
        if (kOutcomes[i].outcome != static_cast<Outcome>(i)) return false;
    return true;
}
static_assert(table_in_enum_order(), "kOutcomes must list every Outcome in declaration order");
static_assert(kOutcomes.size() == static_cast<std::size_t>(Outcome::ConversationFailed) + 1);

}  // namespace

std::string wait_time(std::int64_t seconds) {
    if (seconds <= 1) return "a moment";
    if (seconds < 120) return std::to_string(seconds) + " seconds";
    return std::to_string((seconds + 59) / 60) + " minutes";
}

std::span<const OutcomeEntry> all_outcomes() {
    return kOutcomes;
}

const OutcomeEntry& describe(Outcome outcome) {
    return kOutcomes[static_cast<std::size_t>(outcome)];
}

std::string sentence(Outcome outcome, const OutcomeDetails& details) {
    switch (outcome) {
        case Outcome::Success:
        case Outcome::Trusted:
        case Outcome::NotEnrolledIgnored:
        case Outcome::OutsideGroups:
        case Outcome::ConversationFailed:
            return {};
        case Outcome::NotEnrolled:
            return "Your account is not set up for two-factor authentication; ask your "
                   "administrator.";
        case Outcome::NoUser:
            return "No user name was given.";
        case Outcome::UnknownUser:
            return "Your account is not known here; ask your administrator.";
        case Outcome::TooManyTries:
            return "Too many wrong codes; please log in again.";
        case Outcome::Expired:
            return "The code has expired; please log in again to get a new one.";
        case Outcome::Locked: {
            const std::string until =
                details.locked_until > 0 ? local_time(details.locked_until) : std::string();
            if (until.empty()) return "Your account is locked after too many wrong codes.";
            return "Your account is locked after too many wrong codes until " + until + ".";
        }
        case Outcome::DeliveryFailed:
            return "The code could not be texted to you; please try again later or ask your "
                   "administrator.";
        case Outcome::RateLimited:
            return "Too many codes were sent to you; please try again in " +
                   wait_time(details.retry_after) + ".";
        case Outcome::PermissionDenied:
            return "This program may not check your two-factor code; ask your administrator.";
        case Outcome::Unreachable:
            return "The two-factor service is not answering, so you cannot log in now; please "
                   "try again later.";
        case Outcome::UnreachableLetIn:
            return "The two-factor service is not answering; you are let in without a code.";
        case Outcome::DaemonFailed:
            return "The two-factor service failed; please try again later.";
        case Outcome::ProtocolError:
            return "Two-factor authentication failed because of an internal error; ask your "
                   "administrator.";
    }
    return {};
}

const char* pam_code_name(int code) {
    switch (code) {
        case PAM_SUCCESS:
            return "PAM_SUCCESS";
        case PAM_OPEN_ERR:
            return "PAM_OPEN_ERR";
        case PAM_SYMBOL_ERR:
            return "PAM_SYMBOL_ERR";
        case PAM_SERVICE_ERR:
            return "PAM_SERVICE_ERR";
        case PAM_SYSTEM_ERR:
            return "PAM_SYSTEM_ERR";
        case PAM_BUF_ERR:
            return "PAM_BUF_ERR";
        case PAM_PERM_DENIED:
            return "PAM_PERM_DENIED";
        case PAM_AUTH_ERR:
            return "PAM_AUTH_ERR";
        case PAM_CRED_INSUFFICIENT:
            return "PAM_CRED_INSUFFICIENT";
        case PAM_AUTHINFO_UNAVAIL:
            return "PAM_AUTHINFO_UNAVAIL";
        case PAM_USER_UNKNOWN:
            return "PAM_USER_UNKNOWN";
        case PAM_MAXTRIES:
            return "PAM_MAXTRIES";
        case PAM_NEW_AUTHTOK_REQD:
            return "PAM_NEW_AUTHTOK_REQD";
        case PAM_ACCT_EXPIRED:
            return "PAM_ACCT_EXPIRED";
        case PAM_SESSION_ERR:
            return "PAM_SESSION_ERR";
        case PAM_CRED_UNAVAIL:
            return "PAM_CRED_UNAVAIL";
        case PAM_CRED_EXPIRED:
            return "PAM_CRED_EXPIRED";
        case PAM_CRED_ERR:
            return "PAM_CRED_ERR";
        case PAM_NO_MODULE_DATA:
            return "PAM_NO_MODULE_DATA";
        case PAM_CONV_ERR:
            return "PAM_CONV_ERR";
        case PAM_AUTHTOK_ERR:
            return "PAM_AUTHTOK_ERR";
        case PAM_AUTHTOK_RECOVERY_ERR:
            return "PAM_AUTHTOK_RECOVERY_ERR";
        case PAM_AUTHTOK_LOCK_BUSY:
            return "PAM_AUTHTOK_LOCK_BUSY";
        case PAM_AUTHTOK_DISABLE_AGING:
            return "PAM_AUTHTOK_DISABLE_AGING";
        case PAM_TRY_AGAIN:
            return "PAM_TRY_AGAIN";
        case PAM_IGNORE:
            return "PAM_IGNORE";
        case PAM_ABORT:
            return "PAM_ABORT";
        case PAM_AUTHTOK_EXPIRED:
            return "PAM_AUTHTOK_EXPIRED";
        case PAM_MODULE_UNKNOWN:
            return "PAM_MODULE_UNKNOWN";
        case PAM_BAD_ITEM:
            return "PAM_BAD_ITEM";
        case PAM_CONV_AGAIN:
            return "PAM_CONV_AGAIN";
        case PAM_INCOMPLETE:
            return "PAM_INCOMPLETE";
        default:
            return "PAM_UNKNOWN_CODE";
    }
}

}  // namespace twofactor::pam
