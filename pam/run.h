// What each pam_sm_* entry point does, behind the one line it is. Exceptions may leave run();
// the entry points catch them.
#pragma once

#include <security/pam_modules.h>

namespace twofactor::pam {

enum class Task {
    Authenticate,    // pam_sm_authenticate: the whole second factor
    SetCredentials,  // pam_sm_setcred: nothing to set
};

int run(Task task, pam_handle_t* pamh, int flags, int argc, const char** argv);

}  // namespace twofactor::pam
