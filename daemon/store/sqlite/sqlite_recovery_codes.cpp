// SPDX-License-Identifier: BSD-2-Clause
// The SQLite backend's recovery codes. Rare calls (enable, a lost phone, status): statements are
// prepared per call rather than kept.
#include <optional>
#include <vector>

#include "daemon/keys/key_check.h"
#include "daemon/keys/recovery_code_mac.h"
#include "daemon/keys/sealing.h"
#include "daemon/store/sqlite/sqlite.h"
#include "daemon/store/sqlite/sqlite_migrations.h"
#include "daemon/store/sqlite/sqlite_store.h"

namespace twofactor {
namespace {

// Replaces the user's set with these rows, as they are to be stored, in one transaction.
void write_set(sqlite3* db, const std::string& path, const std::string& user,
               const std::string& salt, const std::vector<std::string>& stored_hashes) {
    sql::Transaction transaction(db, path);
    {
        sql::Statement clear(db, path, "DELETE FROM recovery_codes WHERE user = ?1");
        clear.bind_text(1, user);
        clear.step("clear the recovery codes of " + user);
    }
    sql::Statement insert(db, path,
                          "INSERT INTO recovery_codes (user, salt, hash) VALUES (?1, ?2, ?3)");
    for (const auto& hash : stored_hashes) {
        sql::Run run(insert);
        run->bind_text(1, user);
        run->bind_blob(2, salt);
        run->bind_blob(3, hash);
        run->step("store a recovery code of " + user);
    }
    transaction.commit();
}

// Whether the first enrollment, if any, opens with the cipher.
std::optional<bool> sample_opens(sqlite3* db, const std::string& path, const Cipher& cipher) {
    sql::Statement select(db, path,
                          "SELECT name, secret, phone, delivery, enabled_at FROM users "
                          "ORDER BY name LIMIT 1");
    if (!select.step("pick an enrollment")) return std::nullopt;
    std::optional<std::string_view> phone;
    if (!select.column_is_null(2)) phone = select.column_blob(2);
    try {
        sealing::open(cipher, std::string(select.column_text(0)), select.column_blob(1), phone,
                      select.column_text(3), select.column_int64(4));
        return true;
    } catch (const StoreError&) {
        return false;
    }
}

}  // namespace

void key_stored_recovery_codes(sqlite3* db, const std::string& path, const Cipher& cipher) {
    std::optional<std::string> key_check;
    {
        sql::Statement select(db, path, "SELECT value FROM metadata WHERE name = ?1");
        select.bind_text(1, kKeyCheckName);
        if (select.step("read the key check value")) key_check = std::string(select.column_blob(0));
    }
    require_the_databases_key(cipher, key_check, sample_opens(db, path, cipher), path);
    struct Row {
        std::string user, salt, hash;
    };
    std::vector<Row> rows;
    {
        sql::Statement select(db, path, "SELECT user, salt, hash FROM recovery_codes");
        while (select.step("read recovery codes"))
            rows.push_back({std::string(select.column_text(0)), std::string(select.column_blob(1)),
                            std::string(select.column_blob(2))});
    }
    sql::exec(db, path, "DELETE FROM recovery_codes", "clear the recovery codes");
    sql::Statement insert(db, path,
                          "INSERT INTO recovery_codes (user, salt, hash) VALUES (?1, ?2, ?3)");
    for (const Row& row : rows) {
        sql::Run run(insert);
        run->bind_text(1, row.user);
        run->bind_blob(2, row.salt);
        run->bind_blob(3, keyed_recovery_hash(cipher, row.user, row.salt, row.hash));
        run->step("bind a recovery code of " + row.user + " to the key");
    }
}

void SqliteStore::replace_recovery_codes(const std::string& user, const RecoveryCodeSet& set) {
    std::vector<std::string> keyed;
    keyed.reserve(set.hashes.size());
    for (const auto& hash : set.hashes)
        keyed.push_back(keyed_recovery_hash(cipher_, user, set.salt, hash));
    write_set(db_, path_, user, set.salt, keyed);
}

void SqliteStore::put_stored_recovery_codes(const std::string& user,
                                            const RecoveryCodeSet& stored) {
    write_set(db_, path_, user, stored.salt, stored.hashes);
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
    // One salt per set; rows of other salts (written without the key) only cost a MAC each.
    std::vector<std::string> salts;
    {
        sql::Statement select(db_, path_,
                              "SELECT DISTINCT salt FROM recovery_codes WHERE user = ?1");
        select.bind_text(1, user);
        while (select.step("read the recovery-code salts of " + user))
            salts.emplace_back(select.column_blob(0));
    }
    sql::Statement remove(db_, path_,
                          "DELETE FROM recovery_codes WHERE user = ?1 AND salt = ?2 AND hash = ?3");
    for (const auto& salt : salts) {
        sql::Run run(remove);
        run->bind_text(1, user);
        run->bind_blob(2, salt);
        run->bind_blob(3, keyed_recovery_hash(cipher_, user, salt, hash));
        run->step("use a recovery code of " + user);
        if (run->changes() == 1) return true;
    }
    return false;
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
