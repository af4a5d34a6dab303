#include "pam/run.h"

#include <syslog.h>

#include "pam/flow.h"
#include "pam/log.h"
#include "pam/options.h"

namespace twofactor::pam {

int run(Task task, pam_handle_t* pamh, int flags, int argc, const char** argv) {
    // The module sets no credentials of its own: the first factor's module does.
    if (task == Task::SetCredentials) return PAM_SUCCESS;
    // libpam never passes a null handle, but a host program calling us directly might: every
    // pam_* call below declares its handle non-null.
    if (pamh == nullptr) return PAM_SERVICE_ERR;

    const ParsedOptions parsed = parse_options(argc, argv);
    for (const auto& problem : parsed.problems) log(pamh, LOG_ERR, "option: " + problem);
    return authenticate(pamh, flags, parsed.options);
}

}  // namespace twofactor::pam
