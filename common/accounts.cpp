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

// Runs lookup(entry, buffer, size, &result) until the entry fits; the entry if one was found.
// `failed` tells a failing NSS from an entry that does not exist.
template <class Entry, class Lookup>
std::optional<Entry> look_up(Lookup lookup, std::vector<char>& buffer, bool& failed) {
    Entry entry{};
    Entry* result = nullptr;
    buffer.resize(kFirstBuffer);
    int error = 0;
    while ((error = lookup(&entry, buffer.data(), buffer.size(), &result)) == ERANGE &&
           buffer.size() < kMaxBuffer)
        buffer.resize(buffer.size() * 2);
    failed = error != 0;
    if (failed || result == nullptr) return std::nullopt;
    return entry;
}

std::optional<Account> account_from(const std::optional<passwd>& entry) {
    if (!entry) return std::nullopt;
    return Account{entry->pw_name, entry->pw_uid, entry->pw_gid};
}

}  // namespace

std::optional<Account> account_named(const std::string& name) {
    std::vector<char> buffer;
    bool failed = false;
    return account_from(look_up<passwd>(
        [&](passwd* entry, char* data, std::size_t size, passwd** result) {
            return getpwnam_r(name.c_str(), entry, data, size, result);
        },
        buffer, failed));
}

std::optional<Account> account_of(uid_t uid) {
    std::vector<char> buffer;
    bool failed = false;
    return account_from(
        look_up<passwd>([&](passwd* entry, char* data, std::size_t size,
                            passwd** result) { return getpwuid_r(uid, entry, data, size, result); },
                        buffer, failed));
}

std::optional<std::string> group_name_of(gid_t gid) {
    std::vector<char> buffer;
    bool failed = false;
    auto entry =
        look_up<group>([&](group* found, char* data, std::size_t size,
                           group** result) { return getgrgid_r(gid, found, data, size, result); },
                       buffer, failed);
    if (failed) return std::nullopt;
    return entry ? std::string(entry->gr_name) : std::string();
}

}  // namespace twofactor
