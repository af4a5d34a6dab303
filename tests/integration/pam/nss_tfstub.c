// SPDX-License-Identifier: BSD-2-Clause
// A group source for NSS that is down, as LDAP through nslcd or winbind is when its daemon or
// server cannot be reached: every group lookup answers NSS_STATUS_UNAVAIL with ENOENT, which is
// what nss-pam-ldapd's module answers when nslcd is not running. Built as libnss_tfstub.so.2;
// a test names it on the `group:` line of an nsswitch.conf of its own ("group: files tfstub").
//
// The environment changes the answer, so one library covers the cases a test compares:
//   TFSTUB_STATUS=notfound  a source that works and knows no such group (NSS_STATUS_NOTFOUND)
//   TFSTUB_ERRNO=keep       UNAVAIL without setting the error number (some modules do that)
#include <errno.h>
#include <grp.h>
#include <nss.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#define EXPORTED __attribute__((visibility("default")))

static enum nss_status answer(int* errnop) {
    const char* status = getenv("TFSTUB_STATUS");
    if (status != NULL && strcmp(status, "notfound") == 0) return NSS_STATUS_NOTFOUND;
    const char* error = getenv("TFSTUB_ERRNO");
    if (errnop != NULL && (error == NULL || strcmp(error, "keep") != 0)) *errnop = ENOENT;
    return NSS_STATUS_UNAVAIL;
}

EXPORTED enum nss_status _nss_tfstub_setgrent(int stayopen) {
    (void)stayopen;
    return answer(NULL);
}

EXPORTED enum nss_status _nss_tfstub_endgrent(void) {
    return NSS_STATUS_SUCCESS;
}

EXPORTED enum nss_status _nss_tfstub_getgrent_r(struct group* entry, char* buffer, size_t size,
                                                int* errnop) {
    (void)entry, (void)buffer, (void)size;
    return answer(errnop);
}

EXPORTED enum nss_status _nss_tfstub_getgrnam_r(const char* name, struct group* entry, char* buffer,
                                                size_t size, int* errnop) {
    (void)name, (void)entry, (void)buffer, (void)size;
    return answer(errnop);
}

EXPORTED enum nss_status _nss_tfstub_getgrgid_r(gid_t gid, struct group* entry, char* buffer,
                                                size_t size, int* errnop) {
    (void)gid, (void)entry, (void)buffer, (void)size;
    return answer(errnop);
}

EXPORTED enum nss_status _nss_tfstub_initgroups_dyn(const char* user, gid_t group, long* start,
                                                    long* size, gid_t** groups, long limit,
                                                    int* errnop) {
    (void)user, (void)group, (void)start, (void)size, (void)groups, (void)limit;
    return answer(errnop);
}
