// The module's only exported symbols (see exports.map). No exception crosses into the host
// program: anything unexpected fails closed with PAM_SERVICE_ERR.
#include <security/pam_modules.h>

#include "pam/run.h"

using twofactor::pam::run;
using twofactor::pam::Task;

extern "C" {

PAM_EXTERN int pam_sm_authenticate(pam_handle_t* pamh, int flags, int argc, const char** argv) {
    try {
        return run(Task::Authenticate, pamh, flags, argc, argv);
    } catch (...) {
        return PAM_SERVICE_ERR;
    }
}

PAM_EXTERN int pam_sm_setcred(pam_handle_t* pamh, int flags, int argc, const char** argv) {
    try {
        return run(Task::SetCredentials, pamh, flags, argc, argv);
    } catch (...) {
        return PAM_SERVICE_ERR;
    }
}

}  // extern "C"
