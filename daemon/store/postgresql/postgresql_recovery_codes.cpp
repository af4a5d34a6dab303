// SPDX-License-Identifier: BSD-2-Clause
// The PostgreSQL backend's recovery codes: a code used on one host is gone for every host,
// because using it is one DELETE that only one statement can win.
#include <optional>
#include <vector>

#include "daemon/keys/key_check.h"
#include "daemon/keys/recovery_code_mac.h"
#include "daemon/keys/sealing.h"
#include "daemon/store/postgresql/postgresql_store.h"

namespace twofactor {

using pg::Param;

namespace {

// Replaces the user's set with these rows, as they are to be stored, in one transaction.
void write_set(pg::Connection& db, const std::string& user, const std::string& salt,
               const std::vector<std::string>& stored_hashes) {
    pg::Transaction transaction(db);
    db.exec("DELETE FROM recovery_codes WHERE user_name = $1", {Param::text(user)},
            "clear the recovery codes of " + user);
    for (const auto& hash : stored_hashes)
        db.exec("INSERT INTO recovery_codes (user_name, salt, hash) VALUES ($1, $2, $3)",
                {Param::text(user), Param::bytes(salt), Param::bytes(hash)},
                "store a recovery code of " + user);
    transaction.commit();
}

// Whether the first enrollment, if any, opens with the cipher.
std::optional<bool> sample_opens(pg::Connection& db, const Cipher& cipher) {
    auto r =
        db.exec("SELECT name, secret, phone, delivery, enabled_at FROM users ORDER BY name LIMIT 1",
                {}, "pick an enrollment");
    if (r.rows() == 0) return std::nullopt;
    const std::string secret = r.bytes(0, 1);
    std::optional<std::string> phone;
    if (!r.is_null(0, 2)) phone = r.bytes(0, 2);
    std::optional<std::string_view> phone_view;
    if (phone) phone_view = *phone;
    try {
        sealing::open(cipher, std::string(r.text(0, 0)), secret, phone_view, r.text(0, 3),
                      r.number(0, 4));
        return true;
    } catch (const StoreError&) {
        return false;
    }
}

}  // namespace

void key_stored_recovery_codes(pg::Connection& db, const Cipher& cipher) {
    std::optional<std::string> key_check;
    auto check = db.exec("SELECT value FROM metadata WHERE name = $1", {Param::text(kKeyCheckName)},
                         "read the key check value");
    if (check.rows() != 0) key_check = check.bytes(0, 0);
    require_the_databases_key(cipher, key_check, sample_opens(db, cipher), "postgresql");
    // FOR UPDATE, though the migration lock already keeps other daemons' migrations out.
    auto r = db.exec("SELECT user_name, salt, hash FROM recovery_codes FOR UPDATE", {},
                     "read recovery codes");
    db.exec("DELETE FROM recovery_codes", {}, "clear the recovery codes");
    for (int row = 0; row < r.rows(); ++row) {
        const std::string user(r.text(row, 0));
        const std::string salt = r.bytes(row, 1);
        db.exec("INSERT INTO recovery_codes (user_name, salt, hash) VALUES ($1, $2, $3)",
                {Param::text(user), Param::bytes(salt),
                 Param::bytes(keyed_recovery_hash(cipher, user, salt, r.bytes(row, 2)))},
                "bind a recovery code of " + user + " to the key");
    }
}

void PostgresStore::replace_recovery_codes(const std::string& user, const RecoveryCodeSet& set) {
    std::vector<std::string> keyed;
    keyed.reserve(set.hashes.size());
    for (const auto& hash : set.hashes)
        keyed.push_back(keyed_recovery_hash(cipher_, user, set.salt, hash));
    write_set(*pool_.lease(), user, set.salt, keyed);
}

void PostgresStore::put_stored_recovery_codes(const std::string& user,
                                              const RecoveryCodeSet& stored) {
    write_set(*pool_.lease(), user, stored.salt, stored.hashes);
}

std::optional<std::string> PostgresStore::recovery_salt(const std::string& user) {
    auto r = pool_.lease()->exec("SELECT salt FROM recovery_codes WHERE user_name = $1 LIMIT 1",
                                 {Param::text(user)}, "read the recovery-code salt of " + user);
    if (r.rows() == 0) return std::nullopt;
    return r.bytes(0, 0);
}

bool PostgresStore::use_recovery_code(const std::string& user, const std::string& hash) {
    auto db = pool_.lease();
    // One salt per set; rows of other salts (written without the key) only cost a MAC each.
    auto salts = db->exec("SELECT DISTINCT salt FROM recovery_codes WHERE user_name = $1",
                          {Param::text(user)}, "read the recovery-code salts of " + user);
    for (int row = 0; row < salts.rows(); ++row) {
        const std::string salt = salts.bytes(row, 0);
        auto r =
            db->exec("DELETE FROM recovery_codes WHERE user_name = $1 AND salt = $2 AND hash = $3",
                     {Param::text(user), Param::bytes(salt),
                      Param::bytes(keyed_recovery_hash(cipher_, user, salt, hash))},
                     "use a recovery code of " + user);
        if (r.affected() == 1) return true;
    }
    return false;
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
