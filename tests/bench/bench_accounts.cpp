// SPDX-License-Identifier: BSD-2-Clause
#include "bench_accounts.h"

#include <dlfcn.h>
#include <pwd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <unordered_set>

namespace twofactor::bench {
namespace {

std::unordered_set<std::string>& names() {
    static std::unordered_set<std::string> set;
    return set;
}

constexpr uid_t kNobody = 65534;

}  // namespace

void add_bench_accounts(const std::vector<BenchUser>& users) {
    for (const auto& user : users) names().insert(user.name);
}

}  // namespace twofactor::bench

extern "C" int getpwnam_r(const char* name, passwd* entry, char* buffer, size_t size,
                          passwd** result) {
    using Lookup = int (*)(const char*, passwd*, char*, size_t, passwd**);
    *result = nullptr;
    if (twofactor::bench::names().count(name) == 0) {
        static const auto real = reinterpret_cast<Lookup>(dlsym(RTLD_NEXT, "getpwnam_r"));
        return real != nullptr ? real(name, entry, buffer, size, result) : ENOSYS;
    }
    static const char kHome[] = "/nonexistent";
    const std::size_t length = std::strlen(name) + 1;
    if (size < length + sizeof kHome + 1) return ERANGE;
    std::memcpy(buffer, name, length);
    std::memcpy(buffer + length, kHome, sizeof kHome);
    buffer[length + sizeof kHome] = '\0';
    *entry = passwd{};
    entry->pw_name = buffer;
    entry->pw_dir = buffer + length;
    entry->pw_passwd = entry->pw_gecos = entry->pw_shell = buffer + length + sizeof kHome;
    entry->pw_uid = entry->pw_gid = twofactor::bench::kNobody;
    *result = entry;
    return 0;
}
