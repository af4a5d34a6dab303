// SPDX-License-Identifier: BSD-2-Clause
// The built module as the host program sees it: dlopen(RTLD_NOW) resolves everything, the PAM
// entry points are there, they are the only symbols it exports, and it pulls none of the
// daemon's heavy libraries into the host (sshd, sudo, su) that loads it.
#include <dlfcn.h>
#include <security/_pam_types.h>

#include <cstdio>
#include <sstream>
#include <string>
#include <vector>

#include <csetjmp>
#include <cstdarg>
#include <cstddef>
#include <cstdint>
extern "C" {
#include <cmocka.h>
}

namespace {

using ServiceFunction = int (*)(pam_handle_t*, int, int, const char**);

void test_loads_and_resolves(void**) {
    void* module = dlopen(PAM_MODULE_PATH, RTLD_NOW | RTLD_LOCAL);
    if (module == nullptr) fail_msg("dlopen: %s", dlerror());
    auto authenticate = reinterpret_cast<ServiceFunction>(dlsym(module, "pam_sm_authenticate"));
    auto setcred = reinterpret_cast<ServiceFunction>(dlsym(module, "pam_sm_setcred"));
    assert_non_null(authenticate);
    assert_non_null(setcred);
    // No session or account management: libpam must not find any.
    assert_null(dlsym(module, "pam_sm_open_session"));
    assert_null(dlsym(module, "pam_sm_acct_mgmt"));

    assert_int_equal(setcred(nullptr, 0, 0, nullptr), PAM_SUCCESS);
    // Without a handle there is no user: an error code, not a crash and not success.
    const int code = authenticate(nullptr, 0, 0, nullptr);
    assert_int_not_equal(code, PAM_SUCCESS);
    assert_int_not_equal(code, PAM_IGNORE);
    dlclose(module);
}

void test_exports_only_pam_sm(void**) {
    const std::string command = std::string("nm -D --defined-only ") + PAM_MODULE_PATH;
    FILE* pipe = popen(command.c_str(), "r");
    assert_non_null(pipe);
    std::vector<std::string> names;
    char line[4096];
    while (fgets(line, sizeof(line), pipe) != nullptr) {
        std::istringstream fields(line);
        std::string address, type, name;
        if (!(fields >> address >> type >> name)) fail_msg("unexpected nm line: %s", line);
        if (name.rfind("pam_sm_", 0) != 0) fail_msg("exported symbol is not pam_sm_*: %s", line);
        if (type != "T") fail_msg("pam_sm_* symbol is not a function: %s", line);
        names.push_back(name);
    }
    assert_int_equal(pclose(pipe), 0);
    assert_int_equal(names.size(), 2);
}

void test_needs_no_daemon_library(void**) {
    const std::string command = std::string("readelf -d ") + PAM_MODULE_PATH;
    FILE* pipe = popen(command.c_str(), "r");
    assert_non_null(pipe);
    const char* forbidden[] = {"libcrypto", "libssl", "libcurl", "libsqlite3", "libsystemd"};
    int needed = 0;
    char line[4096];
    while (fgets(line, sizeof(line), pipe) != nullptr) {
        const std::string text(line);
        if (text.find("(NEEDED)") == std::string::npos) continue;
        ++needed;
        for (const char* library : forbidden) {
            if (text.find(library) != std::string::npos) fail_msg("the module needs %s", line);
        }
    }
    assert_int_equal(pclose(pipe), 0);
    // libpam and libc at least: a parse that saw nothing would prove nothing.
    assert_true(needed >= 2);
}

}  // namespace

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_loads_and_resolves),
        cmocka_unit_test(test_exports_only_pam_sm),
        cmocka_unit_test(test_needs_no_daemon_library),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
