// SPDX-License-Identifier: BSD-2-Clause
// The SQLite store: enrollments, used steps and failures survive reopening (and kill -9); the
// schema migrates and refuses newer databases; secrets and phones never reach the disk in clear.
#include <signal.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <memory>
#include <string>

#include "daemon/store/sqlite/sqlite_store.h"
#include "tests/unit/test_support.h"

using namespace twofactor;
using test::contains;
using test::file_exists;
using test::file_mode;
using test::message_of;
using test::read_bytes;
using test::TempDir;
using test::write_bytes;

namespace {

const std::string kSecret = "8MJJfCY4ERBtotvenSc3";
const std::string kPhone = "+15555550123";

std::array<unsigned char, kKeyBytes> test_key(unsigned char first) {
    std::array<unsigned char, kKeyBytes> key{};
    for (std::size_t i = 0; i < key.size(); ++i) key[i] = static_cast<unsigned char>(first + i);
    return key;
}

struct Fixture {
    TempDir dir;
    std::string db = dir.file("twofactord.db");
    Cipher cipher{test_key(1)};
};

int setup(void** state) {
    *state = new Fixture();
    return 0;
}

int teardown(void** state) {
    delete static_cast<Fixture*>(*state);
    return 0;
}

Fixture& fixture(void** state) {
    return *static_cast<Fixture*>(*state);
}

Enrollment alice() {
    Enrollment e;
    e.user = "alice";
    e.secret = SecureString(kSecret);
    e.mobile_phone = kPhone;
    e.delivery = Delivery::TextMessage;
    e.enabled_at = 1700000000;
    return e;
}

void assert_same(const Enrollment& a, const Enrollment& b) {
    assert_string_equal(a.user.c_str(), b.user.c_str());
    assert_true(a.secret.view() == b.secret.view());
    assert_string_equal(a.mobile_phone.c_str(), b.mobile_phone.c_str());
    assert_true(a.delivery == b.delivery);
    assert_true(a.enabled_at == b.enabled_at);
}

// Direct SQL on the file, as an attacker with write access to it (but not the key) could do.
struct RawDb {
    explicit RawDb(const std::string& path) {
        if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr) != SQLITE_OK)
            fail_msg("raw open failed");
    }
    ~RawDb() { sqlite3_close(db); }
    void exec(const std::string& sql) {
        char* error = nullptr;
        if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error) != SQLITE_OK)
            fail_msg("%s: %s", sql.c_str(), error ? error : "?");
    }
    std::int64_t integer(const std::string& sql) {
        sqlite3_stmt* stmt = nullptr;
        if (sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr) != SQLITE_OK ||
            sqlite3_step(stmt) != SQLITE_ROW)
            fail_msg("%s: %s", sql.c_str(), sqlite3_errmsg(db));
        std::int64_t value = sqlite3_column_int64(stmt, 0);
        sqlite3_finalize(stmt);
        return value;
    }
    sqlite3* db = nullptr;
};

void put_get_remove(void** state) {
    Fixture& f = fixture(state);
    SqliteStore store(f.db, f.cipher);
    assert_false(store.get_enrollment("alice").has_value());
    assert_int_equal(store.count_enrollments(), 0);

    store.put_enrollment(alice());
    Enrollment bob;
    bob.user = "bob";
    bob.secret = SecureString(std::string("JBSWY3DPEHPK3PXPJBSWY3DP"));
    bob.delivery = Delivery::None;
    bob.enabled_at = 42;
    store.put_enrollment(bob);
    assert_int_equal(store.count_enrollments(), 2);

    auto got = store.get_enrollment("alice");
    assert_true(got.has_value());
    assert_same(*got, alice());
    got = store.get_enrollment("bob");
    assert_true(got.has_value());
    assert_same(*got, bob);
    assert_true(got->mobile_phone.empty());
    assert_false(store.get_enrollment("carol").has_value());

    // Enabling again replaces the enrollment.
    Enrollment changed = alice();
    changed.mobile_phone = "+447700900123";
    changed.secret = SecureString(std::string("anotherSecretOf20chr"));
    changed.enabled_at = 1800000000;
    store.put_enrollment(changed);
    assert_same(*store.get_enrollment("alice"), changed);
    assert_int_equal(store.count_enrollments(), 2);

    assert_true(store.remove_enrollment("alice"));
    assert_false(store.get_enrollment("alice").has_value());
    assert_false(store.remove_enrollment("alice"));
    assert_int_equal(store.count_enrollments(), 1);
    assert_true(store.get_enrollment("bob").has_value());
}

void text_message_needs_a_phone(void** state) {
    Fixture& f = fixture(state);
    SqliteStore store(f.db, f.cipher);
    Enrollment e = alice();
    e.mobile_phone.clear();
    std::string message = message_of<StoreError>([&] { store.put_enrollment(e); });
    assert_true(contains(message, "TextMessage needs a phone number"));
    assert_int_equal(store.count_enrollments(), 0);
}

void delivery_names(void**) {
    assert_string_equal(delivery_name(Delivery::TextMessage), "TextMessage");
    assert_string_equal(delivery_name(Delivery::None), "None");
    assert_true(parse_delivery("TextMessage") == Delivery::TextMessage);
    assert_true(parse_delivery("None") == Delivery::None);
    assert_false(parse_delivery("textmessage").has_value());
    assert_false(parse_delivery("").has_value());
    assert_false(parse_delivery("None ").has_value());
}

void reopen_keeps_everything(void** state) {
    Fixture& f = fixture(state);
    {
        SqliteStore store(f.db, f.cipher);
        store.put_enrollment(alice());
        assert_true(store.use_step("alice", 56666666));
        store.put_failures("alice", FailureState{3, 1700000100, 1700000900});
    }
    SqliteStore store(f.db, f.cipher);
    assert_same(*store.get_enrollment("alice"), alice());
    assert_true(store.step_used("alice", 56666666));
    assert_false(store.use_step("alice", 56666666));
    FailureState failures = store.get_failures("alice");
    assert_int_equal(failures.failures, 3);
    assert_true(failures.first_failure == 1700000100);
    assert_true(failures.locked_until == 1700000900);
}

void steps_are_single_use(void** state) {
    Fixture& f = fixture(state);
    {
        SqliteStore store(f.db, f.cipher);
        assert_false(store.step_used("alice", 1000));
        assert_true(store.use_step("alice", 1000));
        assert_false(store.use_step("alice", 1000));
        assert_true(store.step_used("alice", 1000));
        assert_true(store.use_step("alice", 1001));  // the next step is its own
        assert_true(store.use_step("bob", 1000));    // and so is another user
        assert_false(store.step_used("carol", 1000));

        // Two connections to one file (two daemons by mistake) still agree: one winner.
        SqliteStore other(f.db, f.cipher);
        assert_false(other.use_step("alice", 1000));
        assert_true(other.use_step("alice", 1002));
        assert_false(store.use_step("alice", 1002));

        std::string message = message_of<StoreError>([&] { store.use_step("alice", ~0ull); });
        assert_true(contains(message, "out of range"));
    }
    SqliteStore store(f.db, f.cipher);
    assert_false(store.use_step("alice", 1000));
    assert_false(store.use_step("bob", 1000));
    assert_true(store.use_step("bob", 1001));
}

void prune_forgets_old_steps(void** state) {
    Fixture& f = fixture(state);
    SqliteStore store(f.db, f.cipher);
    for (std::uint64_t step : {100u, 101u, 102u, 103u}) assert_true(store.use_step("alice", step));
    assert_true(store.use_step("bob", 101));
    store.prune_steps(102);
    assert_false(store.step_used("alice", 100));
    assert_false(store.step_used("alice", 101));
    assert_false(store.step_used("bob", 101));
    assert_true(store.step_used("alice", 102));
    assert_true(store.step_used("alice", 103));
    store.prune_steps(~0ull);  // beyond any storable step: forgets everything
    assert_false(store.step_used("alice", 103));
    assert_true(store.use_step("alice", 103));
}

void failures_round_trip(void** state) {
    Fixture& f = fixture(state);
    SqliteStore store(f.db, f.cipher);
    FailureState none = store.get_failures("alice");
    assert_int_equal(none.failures, 0);
    assert_true(none.first_failure == 0 && none.locked_until == 0);

    store.put_failures("alice", FailureState{1, 1700000000, 0});
    store.put_failures("alice", FailureState{10, 1700000000, 1700000900});
    store.put_failures("bob", FailureState{2, 1600000000, 0});
    FailureState got = store.get_failures("alice");
    assert_int_equal(got.failures, 10);
    assert_true(got.first_failure == 1700000000);
    assert_true(got.locked_until == 1700000900);
    assert_int_equal(store.get_failures("bob").failures, 2);

    store.put_failures("alice", FailureState{});
    got = store.get_failures("alice");
    assert_int_equal(got.failures, 0);
    assert_true(got.locked_until == 0);
    assert_int_equal(store.get_failures("bob").failures, 2);
    RawDb raw(f.db);
    assert_int_equal(raw.integer("SELECT count(*) FROM failures"), 1);
}

void remove_clears_steps_and_failures(void** state) {
    Fixture& f = fixture(state);
    SqliteStore store(f.db, f.cipher);
    store.put_enrollment(alice());
    assert_true(store.use_step("alice", 7));
    store.put_failures("alice", FailureState{4, 100, 0});
    assert_true(store.use_step("bob", 7));
    store.put_failures("bob", FailureState{1, 100, 0});

    assert_true(store.remove_enrollment("alice"));
    assert_false(store.step_used("alice", 7));
    assert_int_equal(store.get_failures("alice").failures, 0);
    assert_true(store.step_used("bob", 7));
    assert_int_equal(store.get_failures("bob").failures, 1);
}

void migrates_an_empty_file(void** state) {
    Fixture& f = fixture(state);
    write_bytes(f.db, "", 0600);
    assert_true(SqliteStore::schema_version() >= 1);
    { SqliteStore store(f.db, f.cipher); }
    RawDb raw(f.db);
    assert_int_equal(raw.integer("PRAGMA user_version"), SqliteStore::schema_version());
    assert_int_equal(raw.integer("SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND "
                                 "name IN ('users', 'used_steps', 'failures')"),
                     3);
    sqlite3_stmt* stmt = nullptr;
    assert_int_equal(sqlite3_prepare_v2(raw.db, "PRAGMA journal_mode", -1, &stmt, nullptr),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(stmt), SQLITE_ROW);
    assert_string_equal(reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0)), "wal");
    sqlite3_finalize(stmt);
}

// A database of schema version 5 holds trusts without a host or a MAC: migrating drops them
// (their users are asked for the code once more) and keeps everything else.
void migrating_drops_trusts_without_host_and_mac(void** state) {
    Fixture& f = fixture(state);
    {
        SqliteStore store(f.db, f.cipher);
        store.use_step("alice", 7);
    }
    {
        RawDb raw(f.db);
        raw.exec("DROP TABLE trusts");
        raw.exec(
            "CREATE TABLE trusts (user TEXT NOT NULL, service TEXT NOT NULL, origin TEXT NOT "
            "NULL, created_at INTEGER NOT NULL, expires_at INTEGER NOT NULL, PRIMARY KEY "
            "(user, service, origin)) WITHOUT ROWID");
        raw.exec("INSERT INTO trusts VALUES ('alice', 'sudo', 'tty:/dev/pts/0', 1000, 99999)");
        raw.exec("PRAGMA user_version = 5");
    }
    SqliteStore store(f.db, f.cipher);
    assert_true(store.trusts_of("alice").empty());
    assert_false(store.get_trust("alice", "sudo", "tty:/dev/pts/0", "host-a").has_value());
    assert_true(store.step_used("alice", 7));
    store.put_trust(Trust{"alice", "sudo", "tty:/dev/pts/0", "host-a", 1000, 99999});
    assert_true(store.get_trust("alice", "sudo", "tty:/dev/pts/0", "host-a").has_value());
    RawDb raw(f.db);
    assert_int_equal(raw.integer("PRAGMA user_version"), SqliteStore::schema_version());
    assert_int_equal(raw.integer("SELECT count(*) FROM trusts"), 1);
}

void refuses_a_newer_schema(void** state) {
    Fixture& f = fixture(state);
    { SqliteStore store(f.db, f.cipher); }
    const int newer = SqliteStore::schema_version() + 1;
    {
        RawDb raw(f.db);
        raw.exec("PRAGMA user_version = " + std::to_string(newer));
    }
    std::string message = message_of<StoreError>([&] { SqliteStore store(f.db, f.cipher); });
    assert_string_equal(message.c_str(), ("database " + f.db + " has schema version " +
                                          std::to_string(newer) + ", newer than this build's " +
                                          std::to_string(SqliteStore::schema_version()))
                                             .c_str());
    RawDb raw(f.db);  // and left it alone
    assert_int_equal(raw.integer("PRAGMA user_version"), newer);
}

void refuses_what_is_not_a_database(void** state) {
    Fixture& f = fixture(state);
    write_bytes(f.db, std::string(4096, 'x'), 0600);
    std::string message = message_of<StoreError>([&] { SqliteStore store(f.db, f.cipher); });
    assert_true(contains(message, "database " + f.db + ": "));
    assert_true(contains(message, "not a database"));

    const std::string link = f.dir.file("link.db");
    assert_int_equal(::symlink(f.db.c_str(), link.c_str()), 0);
    message = message_of<StoreError>([&] { SqliteStore store(link, f.cipher); });
    assert_true(contains(message, "symbolic link"));

    message =
        message_of<StoreError>([&] { SqliteStore store(f.dir.file("no/dir/x.db"), f.cipher); });
    assert_true(contains(message, "No such file or directory"));
}

void files_are_private(void** state) {
    Fixture& f = fixture(state);
    mode_t old_umask = ::umask(022);
    {
        SqliteStore store(f.db, f.cipher);
        store.put_enrollment(alice());
        assert_int_equal(file_mode(f.db), 0600);
        assert_int_equal(file_mode(f.db + "-wal"), 0600);
        assert_int_equal(file_mode(f.db + "-shm"), 0600);
    }
    // A file someone loosened is tightened again on open.
    assert_int_equal(::chmod(f.db.c_str(), 0644), 0);
    { SqliteStore store(f.db, f.cipher); }
    ::umask(old_umask);
    assert_int_equal(file_mode(f.db), 0600);
}

// Neither the database nor its WAL holds a secret or a phone number in clear. The user name, which
// is stored in clear, is the control: it shows the bytes searched are the ones SQLite wrote.
void nothing_secret_on_disk(void** state) {
    Fixture& f = fixture(state);
    Enrollment e = alice();
    e.user = "zebediah";
    SqliteStore store(f.db, f.cipher);
    store.put_enrollment(e);
    const std::string wal = read_bytes(f.db + "-wal");
    assert_true(contains(wal, "zebediah"));
    for (const std::string& bytes : {wal, read_bytes(f.db)}) {
        assert_false(contains(bytes, kSecret));
        assert_false(contains(bytes, kPhone));
        assert_false(contains(bytes, kPhone.substr(1)));  // without the +
        assert_false(contains(bytes, kPhone.substr(kPhone.size() - 7)));
    }
    // Checkpointed into the main file: still nothing.
    RawDb raw(f.db);
    raw.exec("PRAGMA wal_checkpoint(TRUNCATE)");
    const std::string main = read_bytes(f.db);
    assert_true(contains(main, "zebediah"));
    assert_false(contains(main, kSecret));
    assert_false(contains(main, kPhone.substr(1)));
}

void another_key_is_an_error(void** state) {
    Fixture& f = fixture(state);
    { SqliteStore(f.db, f.cipher).put_enrollment(alice()); }
    Cipher other(test_key(2));
    SqliteStore store(f.db, other);
    std::string message = message_of<StoreError>([&] { store.get_enrollment("alice"); });
    assert_string_equal(message.c_str(),
                        "enrollment for alice does not decrypt: wrong key or damaged database");
    assert_int_equal(store.count_enrollments(), 1);
}

void moved_or_swapped_blobs_are_errors(void** state) {
    Fixture& f = fixture(state);
    SqliteStore store(f.db, f.cipher);
    store.put_enrollment(alice());
    {
        RawDb raw(f.db);
        raw.exec("UPDATE users SET name = 'mallory' WHERE name = 'alice'");
    }
    std::string message = message_of<StoreError>([&] { store.get_enrollment("mallory"); });
    assert_string_equal(message.c_str(),
                        "enrollment for mallory does not decrypt: wrong key or damaged database");

    // The sealed phone number put in place of the secret would make the secret known.
    store.put_enrollment(alice());
    {
        RawDb raw(f.db);
        raw.exec("UPDATE users SET secret = phone WHERE name = 'alice'");
    }
    message_of<StoreError>([&] { store.get_enrollment("alice"); });

    // One flipped byte in a stored blob.
    store.put_enrollment(alice());
    {
        RawDb raw(f.db);
        raw.exec(
            "UPDATE users SET phone = CAST(substr(phone, 1, 20) || "
            "CASE WHEN substr(phone, 21, 1) = x'00' THEN x'01' ELSE x'00' END || "
            "substr(phone, 22) AS BLOB) WHERE name = 'alice'");
        assert_int_equal(raw.integer("SELECT length(phone) FROM users WHERE name = 'alice'"),
                         12 + static_cast<std::int64_t>(kPhone.size()) + 16);
    }
    message_of<StoreError>([&] { store.get_enrollment("alice"); });
}

// A committed enrollment and used step survive the process being killed outright.
void survives_kill_9(void** state) {
    Fixture& f = fixture(state);
    { SqliteStore store(f.db, f.cipher); }
    pid_t child = ::fork();
    assert_true(child >= 0);
    if (child == 0) {
        try {
            SqliteStore store(f.db, f.cipher);
            store.put_enrollment(alice());
            store.use_step("alice", 777);
            ::raise(SIGKILL);  // while the store is open: no destructor, no checkpoint
        } catch (...) {
            ::_exit(3);
        }
        ::_exit(4);
    }
    int status = 0;
    assert_int_equal(::waitpid(child, &status, 0), child);
    assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    assert_true(file_exists(f.db + "-wal"));  // no clean close happened
    SqliteStore store(f.db, f.cipher);
    assert_same(*store.get_enrollment("alice"), alice());
    assert_false(store.use_step("alice", 777));
}

}  // namespace

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(put_get_remove, setup, teardown),
        cmocka_unit_test_setup_teardown(text_message_needs_a_phone, setup, teardown),
        cmocka_unit_test(delivery_names),
        cmocka_unit_test_setup_teardown(reopen_keeps_everything, setup, teardown),
        cmocka_unit_test_setup_teardown(steps_are_single_use, setup, teardown),
        cmocka_unit_test_setup_teardown(prune_forgets_old_steps, setup, teardown),
        cmocka_unit_test_setup_teardown(failures_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(remove_clears_steps_and_failures, setup, teardown),
        cmocka_unit_test_setup_teardown(migrates_an_empty_file, setup, teardown),
        cmocka_unit_test_setup_teardown(migrating_drops_trusts_without_host_and_mac, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(refuses_a_newer_schema, setup, teardown),
        cmocka_unit_test_setup_teardown(refuses_what_is_not_a_database, setup, teardown),
        cmocka_unit_test_setup_teardown(files_are_private, setup, teardown),
        cmocka_unit_test_setup_teardown(nothing_secret_on_disk, setup, teardown),
        cmocka_unit_test_setup_teardown(another_key_is_an_error, setup, teardown),
        cmocka_unit_test_setup_teardown(moved_or_swapped_blobs_are_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(survives_kill_9, setup, teardown),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
