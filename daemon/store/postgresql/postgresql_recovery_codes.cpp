// SPDX-License-Identifier: BSD-2-Clause
// The PostgreSQL backend's recovery codes: a code used on one host is gone for every host,
// because using it is one DELETE that only one statement can win.
#include "daemon/store/postgresql/postgresql_store.h"

namespace twofactor {

using pg::Param;

void PostgresStore::replace_recovery_codes(const std::string& user, const RecoveryCodeSet& set) {
    auto db = pool_.lease();
    pg::Transaction transaction(*db);
    db->exec("DELETE FROM recovery_codes WHERE user_name = $1", {Param::text(user)},
             "clear the recovery codes of " + user);
    for (const auto& hash : set.hashes)
        db->exec("INSERT INTO recovery_codes (user_name, salt, hash) VALUES ($1, $2, $3)",
                 {Param::text(user), Param::bytes(set.salt), Param::bytes(hash)},
                 "store a recovery code of " + user);
    transaction.commit();
}

std::optional<std::string> PostgresStore::recovery_salt(const std::string& user) {
    auto r = pool_.lease()->exec("SELECT salt FROM recovery_codes WHERE user_name = $1 LIMIT 1",
                                 {Param::text(user)}, "read the recovery-code salt of " + user);
    if (r.rows() == 0) return std::nullopt;
    return r.bytes(0, 0);
}

bool PostgresStore::use_recovery_code(const std::string& user, const std::string& hash) {
    auto r = pool_.lease()->exec("DELETE FROM recovery_codes WHERE user_name = $1 AND hash = $2",
                                 {Param::text(user), Param::bytes(hash)},
                                 "use a recovery code of " + user);
    return r.affected() == 1;
}

int PostgresStore::count_recovery_codes(const std::string& user) {
    auto r = pool_.lease()->exec("SELECT count(*) FROM recovery_codes WHERE user_name = $1",
                                 {Param::text(user)}, "count the recovery codes of " + user);
    return static_cast<int>(r.number(0, 0));
}

std::vector<std::pair<std::string, RecoveryCodeSet>> PostgresStore::all_recovery_codes() const {
    std::vector<std::pair<std::string, RecoveryCodeSet>> all;
    auto r =
        pool_.lease()->exec("SELECT user_name, salt, hash FROM recovery_codes ORDER BY user_name",
                            {}, "read recovery codes");
    for (int row = 0; row < r.rows(); ++row) {
        const std::string user(r.text(row, 0));
        if (all.empty() || all.back().first != user)
            all.push_back({user, RecoveryCodeSet{r.bytes(row, 1), {}}});
        all.back().second.hashes.push_back(r.bytes(row, 2));
    }
    return all;
}

}  // namespace twofactor
