// SPDX-License-Identifier: BSD-2-Clause
// PostgreSQL schema history. Never edit a migration that has shipped: add the next one.
// The same tables as SQLite's, with PostgreSQL's types; "user" is a reserved word, so the user
// columns are user_name.
#include <array>

#include "daemon/store/postgresql/postgresql_store.h"

namespace twofactor {
namespace {

// Any constant shared by every twofactord: the key of the advisory lock that makes daemons
// starting together against an empty database migrate it one at a time.
constexpr const char* kMigrationLock = "SELECT pg_advisory_lock(7456391180233801)";
constexpr const char* kMigrationUnlock = "SELECT pg_advisory_unlock(7456391180233801)";

constexpr std::array kMigrations = {
    // 1: everything SQLite's versions 1 to 3 hold.
    R"sql(
        CREATE TABLE users (
            name       text   NOT NULL PRIMARY KEY,
            secret     bytea  NOT NULL,
            phone      bytea,
            delivery   text   NOT NULL CHECK (delivery IN ('TextMessage', 'None')),
            enabled_at bigint NOT NULL
        );
        CREATE TABLE used_steps (
            user_name text   NOT NULL,
            step      bigint NOT NULL,
            PRIMARY KEY (user_name, step)
        );
        CREATE INDEX used_steps_by_step ON used_steps (step);
        CREATE TABLE failures (
            user_name     text    NOT NULL PRIMARY KEY,
            failures      integer NOT NULL,
            first_failure bigint  NOT NULL,
            locked_until  bigint  NOT NULL
        );
        CREATE TABLE challenges (
            id            text    NOT NULL PRIMARY KEY,
            user_name     text    NOT NULL,
            delivery      text    NOT NULL CHECK (delivery IN ('TextMessage', 'None')),
            texted_step   bigint,
            expires_at    bigint  NOT NULL,
            attempts_left integer NOT NULL,
            resends_left  integer NOT NULL,
            ip_address    text    NOT NULL,
            service       text    NOT NULL
        );
        CREATE INDEX challenges_by_user ON challenges (user_name);
        CREATE INDEX challenges_by_expiry ON challenges (expires_at);
        CREATE TABLE events (
            key text   NOT NULL,
            at  bigint NOT NULL
        );
        CREATE INDEX events_by_key ON events (key, at);
        CREATE INDEX events_by_time ON events (at);
        CREATE TABLE metadata (
            name  text  NOT NULL PRIMARY KEY,
            value bytea NOT NULL
        );
    )sql",
    // 2: SQLite's version 4: trusts, and what each open challenge asked to be trusted for.
    R"sql(
        CREATE TABLE trusts (
            user_name  text   NOT NULL,
            service    text   NOT NULL,
            origin     text   NOT NULL,
            created_at bigint NOT NULL,
            expires_at bigint NOT NULL,
            PRIMARY KEY (user_name, service, origin)
        );
        CREATE INDEX trusts_by_expiry ON trusts (expires_at);
        ALTER TABLE challenges ADD COLUMN trust_seconds bigint NOT NULL DEFAULT 0,
                               ADD COLUMN origin text NOT NULL DEFAULT '';
    )sql",
    // 3: recovery codes, as salted hashes; one salt per user's set.
    R"sql(
        CREATE TABLE recovery_codes (
            user_name text  NOT NULL,
            salt      bytea NOT NULL,
            hash      bytea NOT NULL,
            PRIMARY KEY (user_name, hash)
        );
    )sql",
    // 4: SQLite's version 6: every trust is bound to the host that made it and carries a MAC
    // under a key derived from the data key (trust_mac.h); a row written without one has the
    // empty MAC, which never matches. Trusts made before carry neither and are dropped: their
    // users are asked for the code once more.
    R"sql(
        DROP TABLE trusts;
        CREATE TABLE trusts (
            user_name  text   NOT NULL,
            service    text   NOT NULL,
            origin     text   NOT NULL,
            host       text   NOT NULL,
            created_at bigint NOT NULL,
            expires_at bigint NOT NULL,
            mac        bytea  NOT NULL DEFAULT ''::bytea,
            PRIMARY KEY (user_name, service, origin, host)
        );
        CREATE INDEX trusts_by_expiry ON trusts (expires_at);
    )sql",
};

struct Unlock {
    pg::Connection& db;
    ~Unlock() {
        try {
            db.exec(kMigrationUnlock, {}, "release the migration lock");
        } catch (const StoreError&) {
            // A lost connection releases its advisory locks by itself.
        }
    }
};

}  // namespace

int postgresql_latest_schema_version() {
    return static_cast<int>(kMigrations.size());
}

void migrate_postgresql(pg::Connection& db) {
    db.exec(kMigrationLock, {}, "take the migration lock");
    Unlock unlock{db};
    db.exec_script(
        "CREATE TABLE IF NOT EXISTS twofactor_schema (version integer NOT NULL); "
        "INSERT INTO twofactor_schema (version) "
        "SELECT 0 WHERE NOT EXISTS (SELECT 1 FROM twofactor_schema)",
        "create the schema version table");
    const int latest = postgresql_latest_schema_version();
    for (int pass = 0; pass <= latest; ++pass) {
        pg::Transaction transaction(db);
        const auto current = static_cast<int>(
            db.exec("SELECT version FROM twofactor_schema", {}, "read the schema version")
                .number(0, 0));
        if (current > latest)
            throw StoreError("postgresql: the database has schema version " +
                             std::to_string(current) + ", newer than this build's " +
                             std::to_string(latest));
        if (current < 0)
            throw StoreError("postgresql: the database has schema version " +
                             std::to_string(current) + ", which no build ever wrote");
        if (current == latest) return;
        db.exec_script(kMigrations[static_cast<std::size_t>(current)],
                       "migrate to schema version " + std::to_string(current + 1));
        db.exec("UPDATE twofactor_schema SET version = $1", {pg::Param::number(current + 1)},
                "set the schema version");
        transaction.commit();
    }
    throw StoreError("postgresql: schema migration did not converge");
}

}  // namespace twofactor
