// SPDX-License-Identifier: BSD-2-Clause
#include "daemon/config/file_permissions.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "common/ini.h"
#include "daemon/log/log.h"

namespace twofactor {
namespace {

std::string octal(mode_t mode) {
    char text[8];
    std::snprintf(text, sizeof text, "%04o", static_cast<unsigned>(mode & 07777));
    return text;
}

bool trusted_uid(uid_t uid) {
    return uid == 0 || uid == ::geteuid();
}

bool trusted_gid(gid_t gid) {
    return gid == 0 || gid == ::getegid();
}

struct stat stat_of(const std::string& path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) throw ConfigError(path + ": " + std::strerror(errno));
    return st;
}

bool others_may_read(const struct stat& st) {
    const bool group_may_read = (st.st_mode & S_IRGRP) != 0 && !trusted_gid(st.st_gid);
    return (st.st_mode & S_IROTH) != 0 || group_may_read;
}

}  // namespace

void refuse_if_others_may_change(const std::string& path, const char* what) {
    const struct stat st = stat_of(path);
    if (!trusted_uid(st.st_uid))
        throw ConfigError(path + ": the " + std::string(what) + " is owned by uid " +
                          std::to_string(st.st_uid) +
                          ", who could change what twofactord does; chown it to root");
    const bool group_may_write = (st.st_mode & S_IWGRP) != 0 && !trusted_gid(st.st_gid);
    if ((st.st_mode & S_IWOTH) != 0 || group_may_write)
        throw ConfigError(path + ": the " + std::string(what) +
                          " is writable by other users (mode " + octal(st.st_mode) +
                          "), who could change what twofactord does; chmod go-w it");
}

void warn_if_others_may_read(const std::string& path, const char* secret) {
    const struct stat st = stat_of(path);
    if (!others_may_read(st)) return;
    log::warning(path + " holds " + secret + " and is readable by other users (mode " +
                     octal(st.st_mode) + "); chmod go-r it",
                 {{"path", path}});
}

void refuse_if_others_may_read(const std::string& path, const char* secret) {
    const struct stat st = stat_of(path);
    if (!others_may_read(st)) return;
    throw ConfigError(path + ": " + secret + " is readable by other users (mode " +
                      octal(st.st_mode) + "); chmod go-r it");
}

}  // namespace twofactor
