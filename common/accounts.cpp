// SPDX-License-Identifier: BSD-2-Clause
#include "common/accounts.h"

#include <grp.h>
#include <pwd.h>

#include <cerrno>
#include <vector>

namespace twofactor {
namespace {

// NSS answers of unknown size: start where nearly every entry fits, double up to a bound.
constexpr std::size_t kFirstBuffer = 4096;
constexpr std::size_t kMaxBuffer = 1 << 20;

// What errno holds when a lookup starts. When a source answers UNAVAIL or TRYAGAIN, glibc's
// get*_r return errno as the source left it, and not every NSS module sets it: starting from 0,
// such an answer would read as "no such entry".
constexpr int kUnansweredLookup = EAGAIN;

// Runs lookup(entry, buffer, size, &result) until the entry fits; the entry if one was found.
// `error` (NSS's error number, 0 if none) tells a failing NSS from an entry that does not exist.
template <class Entry, class Lookup>
std::optional<Entry> look_up(Lookup lookup, std::vector<char>& buffer, int& error) {
    Entry entry{};
    Entry* result = nullptr;
    buffer.resize(kFirstBuffer);
    for (;;) {
        errno = kUnansweredLookup;
        error = lookup(&entry, buffer.data(), buffer.size(), &result);
        if (error != ERANGE || buffer.size() >= kMaxBuffer) break;
        buffer.resize(buffer.size() * 2);
    }
    if (error != 0 || result == nullptr) return std::nullopt;
    return entry;
}

std::optional<Account> account_from(const std::optional<passwd>& entry) {
    if (!entry) return std::nullopt;
    return Account{entry->pw_name != nullptr ? entry->pw_name : "", entry->pw_uid, entry->pw_gid};
}

}  // namespace

std::optional<Account> account_named(const std::string& name, int* error) {
    std::vector<char> buffer;
    int failed = 0;
    return account_from(look_up<passwd>(
        [&](passwd* entry, char* data, std::size_t size, passwd** result) {
            return getpwnam_r(name.c_str(), entry, data, size, result);
        },
        buffer, error != nullptr ? *error : failed));
}

std::optional<Account> account_of(uid_t uid) {
    std::vector<char> buffer;
    int failed = 0;
    return account_from(
        look_up<passwd>([&](passwd* entry, char* data, std::size_t size,
                            passwd** result) { return getpwuid_r(uid, entry, data, size, result); },
                        buffer, failed));
}

std::optional<std::string> group_name_of(gid_t gid) {
    std::vector<char> buffer;
    int failed = 0;
    auto entry =
        look_up<group>([&](group* found, char* data, std::size_t size,
                           group** result) { return getgrgid_r(gid, found, data, size, result); },
                       buffer, failed);
    if (failed != 0) return std::nullopt;
    return entry && entry->gr_name != nullptr ? std::string(entry->gr_name) : std::string();
}

int group_lookup_error(const std::string& name) {
    std::vector<char> buffer;
    int error = 0;
    look_up<group>(
        [&](group* found, char* data, std::size_t size, group** result) {
            return getgrnam_r(name.c_str(), found, data, size, result);
        },
        buffer, error);
    return error;
}

}  // namespace twofactor
