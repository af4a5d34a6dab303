// SPDX-License-Identifier: BSD-2-Clause
// The module's only exported symbols (see exports.map). No exception crosses into the host
// program: anything unexpected fails closed with PAM_SERVICE_ERR.
#include <security/pam_modules.h>
#include <syslog.h>

#include "pam/flow.h"
#include "pam/log.h"
#include "pam/options.h"

namespace {

// The whole second factor. Exceptions may leave it; pam_sm_authenticate catches them.
int second_factor(pam_handle_t* pamh, int flags, int argc, const char** argv) {
    using namespace twofactor::pam;
    // libpam never passes a null handle, but a host program calling us directly might: every
    // pam_* call below declares its handle non-null.
    if (pamh == nullptr) return PAM_SERVICE_ERR;

    const ParsedOptions parsed = parse_options(argc, argv);
    for (const auto& problem : parsed.problems) log(pamh, LOG_ERR, "option: " + problem);
    return authenticate(pamh, flags, parsed.options);
}

}  // namespace

extern "C" {

PAM_EXTERN int pam_sm_authenticate(pam_handle_t* pamh, int flags, int argc, const char** argv) {
    try {
        return second_factor(pamh, flags, argc, argv);
    } catch (...) {
        return PAM_SERVICE_ERR;
    }
}

// The module sets no credentials of its own: the first factor's module does.
PAM_EXTERN int pam_sm_setcred(pam_handle_t*, int, int, const char**) {
    return PAM_SUCCESS;
}

}  // extern "C"
