// SPDX-License-Identifier: BSD-2-Clause
// Schema history. Never edit a migration that has shipped: add the next one instead, because
// existing databases have already run the old text and only ever run what comes after it.
#include "daemon/store/sqlite/sqlite_migrations.h"

#include <array>

#include "daemon/store/sqlite/sqlite.h"
#include "daemon/store/store.h"

namespace twofactor {
namespace {

// Migration i (from 0) takes the database from version i to version i + 1.
constexpr std::array kMigrations = {
    // 1: enrollments, used steps, failure counts.
    // Secret and phone are AES-256-GCM blobs (see store.cpp); phone is NULL for delivery None.
    // used_steps is WITHOUT ROWID: its key is all it holds, so the key is the table.
    // No foreign keys to users: steps and failures may be recorded for a name that has no
    // enrollment yet (while it enrolls); remove_enrollment clears all three tables itself.
    R"sql(
        CREATE TABLE users (
            name       TEXT    NOT NULL PRIMARY KEY,
            secret     BLOB    NOT NULL,
            phone      BLOB,
            delivery   TEXT    NOT NULL CHECK (delivery IN ('TextMessage', 'None')),
            enabled_at INTEGER NOT NULL
        );
        CREATE TABLE used_steps (
            user TEXT    NOT NULL,
            step INTEGER NOT NULL,
            PRIMARY KEY (user, step)
        ) WITHOUT ROWID;
        CREATE INDEX used_steps_by_step ON used_steps (step);
        CREATE TABLE failures (
            user          TEXT    NOT NULL PRIMARY KEY,
            failures      INTEGER NOT NULL,
            first_failure INTEGER NOT NULL,
            locked_until  INTEGER NOT NULL
        );
    )sql",
    // 2: named values about the database itself, such as the key check value (key_check.h).
    R"sql(
        CREATE TABLE metadata (
            name  TEXT NOT NULL PRIMARY KEY,
            value BLOB NOT NULL
        );
    )sql",
    // 3: open login challenges and per-user text events, so that a restart loses no login and
    // the limits outlive the process.
    R"sql(
        CREATE TABLE challenges (
            id            TEXT    NOT NULL PRIMARY KEY,
            user          TEXT    NOT NULL,
            delivery      TEXT    NOT NULL CHECK (delivery IN ('TextMessage', 'None')),
            texted_step   INTEGER,
            expires_at    INTEGER NOT NULL,
            attempts_left INTEGER NOT NULL,
            resends_left  INTEGER NOT NULL,
            ip_address    TEXT    NOT NULL,
            service       TEXT    NOT NULL
        );
        CREATE INDEX challenges_by_user ON challenges (user);
        CREATE INDEX challenges_by_expiry ON challenges (expires_at);
        CREATE TABLE events (
            key TEXT    NOT NULL,
            at  INTEGER NOT NULL
        );
        CREATE INDEX events_by_key ON events (key, at);
        CREATE INDEX events_by_time ON events (at);
    )sql",
    // 4: trusts (the module's trust=), and what each open challenge asked to be trusted for.
    R"sql(
        CREATE TABLE trusts (
            user       TEXT    NOT NULL,
            service    TEXT    NOT NULL,
            origin     TEXT    NOT NULL,
            created_at INTEGER NOT NULL,
            expires_at INTEGER NOT NULL,
            PRIMARY KEY (user, service, origin)
        ) WITHOUT ROWID;
        CREATE INDEX trusts_by_expiry ON trusts (expires_at);
        ALTER TABLE challenges ADD COLUMN trust_seconds INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE challenges ADD COLUMN origin TEXT NOT NULL DEFAULT '';
    )sql",
    // 5: recovery codes, as salted hashes; one salt per user's set.
    R"sql(
        CREATE TABLE recovery_codes (
            user TEXT NOT NULL,
            salt BLOB NOT NULL,
            hash BLOB NOT NULL,
            PRIMARY KEY (user, hash)
        ) WITHOUT ROWID;
    )sql",
    // 6: every trust is bound to the host that made it and to the key: a MAC over the row under
    // a key derived from the data key (trust_mac.h), so that the database alone cannot make a
    // trust. A row written without one has the empty MAC, which never matches. Trusts made
    // before carry neither and are dropped: their users are asked for the code once more.
    R"sql(
        DROP TABLE trusts;
        CREATE TABLE trusts (
            user       TEXT    NOT NULL,
            service    TEXT    NOT NULL,
            origin     TEXT    NOT NULL,
            host       TEXT    NOT NULL,
            created_at INTEGER NOT NULL,
            expires_at INTEGER NOT NULL,
            mac        BLOB    NOT NULL DEFAULT x'',
            PRIMARY KEY (user, service, origin, host)
        ) WITHOUT ROWID;
        CREATE INDEX trusts_by_expiry ON trusts (expires_at);
    )sql",
};

int read_user_version(sqlite3* db, const std::string& path) {
    sql::Statement statement(db, path, "PRAGMA user_version");
    if (!statement.step("read schema version")) sql::fail(db, path, "read schema version");
    return static_cast<int>(statement.column_int64(0));
}

}  // namespace

int latest_schema_version() {
    return static_cast<int>(kMigrations.size());
}

void run_migrations(sqlite3* db, const std::string& path) {
    const int latest = latest_schema_version();
    // Bounded: each pass either returns, throws, or raises the version by one.
    for (int pass = 0; pass <= latest; ++pass) {
        // The version is read inside the write transaction, so two processes opening the same
        // file cannot both run the same migration.
        sql::Transaction transaction(db, path);
        const int current = read_user_version(db, path);
        if (current > latest)
            throw StoreError("database " + path + " has schema version " + std::to_string(current) +
                             ", newer than this build's " + std::to_string(latest));
        if (current < 0)
            throw StoreError("database " + path + " has schema version " + std::to_string(current) +
                             ", which no build ever wrote");
        if (current == latest) return;  // the transaction read only; rolling it back is fine

        const int next = current + 1;
        sql::exec(db, path, kMigrations[static_cast<std::size_t>(current)],
                  "migrate to schema version " + std::to_string(next));
        // PRAGMA takes no bound parameters; the value is our own integer.
        std::string set_version = "PRAGMA user_version = " + std::to_string(next);
        sql::exec(db, path, set_version.c_str(), "set schema version");
        transaction.commit();
    }
    throw StoreError("database " + path + ": schema migration did not converge");
}

}  // namespace twofactor
