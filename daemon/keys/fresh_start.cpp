// SPDX-License-Identifier: BSD-2-Clause
#include "daemon/keys/fresh_start.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "common/accounts.h"
#include "daemon/keys/cipher.h"

namespace twofactor {
namespace {

// The command that creates an empty database owned by the daemon's own user.
std::string fresh_start_command(const std::string& database) {
    auto account = account_of(::geteuid());
    std::string owner = account ? account->name : std::to_string(::geteuid());
    std::string group = group_name_of(::getegid()).value_or("");
    if (group.empty()) group = std::to_string(::getegid());
    return "install -m 600 -o " + owner + " -g " + group + " /dev/null " + database;
}

}  // namespace

void check_key_and_database(bool key_exists, const std::string& key_name,
                            const std::string& database) {
    struct stat st {};
    const bool database_exists = ::lstat(database.c_str(), &st) == 0 || errno != ENOENT;
    if (key_exists && !database_exists)
        throw KeyError("database " + database + " does not exist, but its " + key_name +
                       " does: restore the database (with its -wal file), or, to start afresh "
                       "with no enrollments, create it empty: " +
                       fresh_start_command(database));
    // An empty file is the deliberate fresh start above; anything else was sealed with a key.
    if (!key_exists && database_exists && st.st_size > 0)
        throw KeyError(key_name + " does not exist, but database " + database +
                       " does: restore the key it was sealed with (a new key cannot open it)");
}

}  // namespace twofactor
