// SPDX-License-Identifier: BSD-2-Clause
// systemd credentials: the unit gives every optional one a default of a lone newline (systemd 252
// cannot leave a missing file out), so a blank credential must read as "not given" and a real
// one as its path.
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <string>

#include "common/credentials.h"

// cmocka last: its fail() macro would clash with std::ios::fail(). Its 1.1 header leaves
// print_message()/print_error() without C linkage, hence the extern "C".
#include <csetjmp>
#include <cstdarg>
#include <cstddef>
#include <cstdint>
extern "C" {
#include <cmocka.h>
}

using twofactor::credential_path;
using twofactor::given_credential_path;

namespace {

std::string g_dir;

void write_file(const std::string& name, const std::string& text) {
    std::ofstream(g_dir + "/" + name, std::ios::binary) << text;
}

int set_up(void**) {
    char pattern[] = "/tmp/tf-credentials-XXXXXX";
    if (mkdtemp(pattern) == nullptr) return -1;
    g_dir = pattern;
    return setenv("CREDENTIALS_DIRECTORY", g_dir.c_str(), 1);
}

int tear_down(void**) {
    for (const char* name : {"blank", "key", "newline"}) unlink((g_dir + "/" + name).c_str());
    rmdir(g_dir.c_str());
    return unsetenv("CREDENTIALS_DIRECTORY");
}

void a_credential_with_content_is_given(void**) {
    write_file("key", "-----BEGIN PRIVATE KEY-----\n");
    const auto path = given_credential_path("key");
    assert_true(path.has_value());
    assert_string_equal(path->c_str(), (g_dir + "/key").c_str());
}

void the_units_default_newline_is_not_given(void**) {
    write_file("newline", "\n");
    write_file("blank", " \r\n");
    // Present for credential_path, which reports what systemd passed...
    assert_true(credential_path("newline").has_value());
    // ...absent for given_credential_path, so [listen] key_file or [remote] key_file is used.
    assert_false(given_credential_path("newline").has_value());
    assert_false(given_credential_path("blank").has_value());
}

void a_missing_credential_or_directory_is_not_given(void**) {
    assert_false(given_credential_path("nothing-here").has_value());
    unsetenv("CREDENTIALS_DIRECTORY");
    write_file("key", "x");
    assert_false(given_credential_path("key").has_value());
    setenv("CREDENTIALS_DIRECTORY", g_dir.c_str(), 1);
}

}  // namespace

int main() {
    const CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(a_credential_with_content_is_given, set_up, tear_down),
        cmocka_unit_test_setup_teardown(the_units_default_newline_is_not_given, set_up, tear_down),
        cmocka_unit_test_setup_teardown(a_missing_credential_or_directory_is_not_given, set_up,
                                        tear_down),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
