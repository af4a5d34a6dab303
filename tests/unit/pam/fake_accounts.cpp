// SPDX-License-Identifier: BSD-2-Clause
// An account database that ignores case, as sssd with Active Directory does: getpwnam_r is
// wrapped (-Wl,--wrap=getpwnam_r) so "ALICE" and "Alice" find the account "alice". Names of
// the fake accounts answer from here; "ghost" is known to nobody; every other name goes to the
// real NSS.
#include <pwd.h>
#include <strings.h>

#include <cerrno>
#include <cstring>

extern "C" int __real_getpwnam_r(const char* name, passwd* entry, char* buffer, size_t size,
                                 passwd** result);

extern "C" int __wrap_getpwnam_r(const char* name, passwd* entry, char* buffer, size_t size,
                                 passwd** result) {
    static const char* const kAccounts[] = {"alice", "bob"};
    *result = nullptr;
    if (std::strcmp(name, "ghost") == 0) return 0;  // not found: no error, no entry
    for (const char* account : kAccounts) {
        if (strcasecmp(name, account) != 0) continue;
        const std::size_t length = std::strlen(account) + 1;
        if (size < length + 2) return ERANGE;
        std::memcpy(buffer, account, length);
        buffer[length] = '\0';  // the empty string for password, gecos, home and shell
        *entry = passwd{};
        entry->pw_name = buffer;
        entry->pw_passwd = entry->pw_gecos = entry->pw_dir = entry->pw_shell = buffer + length;
        entry->pw_uid = entry->pw_gid = 60000;
        *result = entry;
        return 0;
    }
    return __real_getpwnam_r(name, entry, buffer, size, result);
}
