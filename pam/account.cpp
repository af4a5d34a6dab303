#include "pam/account.h"

#include <pwd.h>

#include <cerrno>
#include <cstring>
#include <vector>

namespace twofactor::pam {
namespace {

// NSS answers of unknown size: retry with a larger buffer, up to a bound.
constexpr std::size_t kMaxBuffer = 1 << 20;

}  // namespace

Account find_account(const std::string& user) {
    std::vector<char> buffer(4096);
    passwd entry{};
    passwd* found = nullptr;
    int error = 0;
    while ((error = getpwnam_r(user.c_str(), &entry, buffer.data(), buffer.size(), &found)) ==
               ERANGE &&
           buffer.size() < kMaxBuffer)
        buffer.resize(buffer.size() * 2);
    Account account;
    if (error != 0) {
        account.error = std::strerror(error);
        return account;
    }
    if (found == nullptr || found->pw_name == nullptr || *found->pw_name == '\0') {
        account.lookup = Account::Lookup::Unknown;
        return account;
    }
    account.lookup = Account::Lookup::Found;
    account.name = found->pw_name;
    return account;
}

}  // namespace twofactor::pam
