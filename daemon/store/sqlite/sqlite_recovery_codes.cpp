// SPDX-License-Identifier: BSD-2-Clause
// The SQLite backend's recovery codes. Rare calls (enable, a lost phone, status): statements are
// prepared per call rather than kept.
#include "daemon/store/sqlite/sqlite.h"
#include "daemon/store/sqlite/sqlite_store.h"

namespace twofactor {

void SqliteStore::replace_recovery_codes(const std::string& user, const RecoveryCodeSet& set) {
    sql::Transaction transaction(db_, path_);
    {
        sql::Statement clear(db_, path_, "DELETE FROM recovery_codes WHERE user = ?1");
        clear.bind_text(1, user);
        clear.step("clear the recovery codes of " + user);
    }
    sql::Statement insert(db_, path_,
                          "INSERT INTO recovery_codes (user, salt, hash) VALUES (?1, ?2, ?3)");
    for (const auto& hash : set.hashes) {
        sql::Run run(insert);
        run->bind_text(1, user);
        run->bind_blob(2, set.salt);
        run->bind_blob(3, hash);
        run->step("store a recovery code of " + user);
    }
    transaction.commit();
}

std::optional<std::string> SqliteStore::recovery_salt(const std::string& user) {
    sql::Statement select(db_, path_, "SELECT salt FROM recovery_codes WHERE user = ?1 LIMIT 1");
    select.bind_text(1, user);
    if (!select.step("read the recovery-code salt of " + user)) return std::nullopt;
    std::string salt(select.column_blob(0));
    select.reset();
    return salt;
}

bool SqliteStore::use_recovery_code(const std::string& user, const std::string& hash) {
    sql::Statement remove(db_, path_, "DELETE FROM recovery_codes WHERE user = ?1 AND hash = ?2");
    remove.bind_text(1, user);
    remove.bind_blob(2, hash);
    remove.step("use a recovery code of " + user);
    return remove.changes() == 1;
}

int SqliteStore::count_recovery_codes(const std::string& user) {
    sql::Statement count(db_, path_, "SELECT count(*) FROM recovery_codes WHERE user = ?1");
    count.bind_text(1, user);
    if (!count.step("count the recovery codes of " + user))
        sql::fail(db_, path_, "count the recovery codes of " + user);
    const auto n = count.column_int64(0);
    count.reset();
    return static_cast<int>(n);
}

std::vector<std::pair<std::string, RecoveryCodeSet>> SqliteStore::all_recovery_codes() const {
    std::vector<std::pair<std::string, RecoveryCodeSet>> all;
    sql::Statement select(db_, path_, "SELECT user, salt, hash FROM recovery_codes ORDER BY user");
    while (select.step("read recovery codes")) {
        const std::string user(select.column_text(0));
        if (all.empty() || all.back().first != user)
            all.push_back({user, RecoveryCodeSet{std::string(select.column_blob(1)), {}}});
        all.back().second.hashes.emplace_back(select.column_blob(2));
    }
    select.reset();
    return all;
}

}  // namespace twofactor
