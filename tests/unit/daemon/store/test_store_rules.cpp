// SPDX-License-Identifier: BSD-2-Clause
// The store's rules, run against a backend named on the command line: `sqlite` (a temporary
// file) or `postgresql` (a database of its own in the cluster the ctest fixture started, whose
// state file $TWOFACTOR_TEST_PG names). Both backends must answer every test the same.
#include <libpq-fe.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include <sqlite3.h>

#include "daemon/keys/key_check.h"
#include "daemon/store/import.h"
#include "daemon/store/rules.h"
#include "daemon/store/sqlite/sqlite_store.h"
#include "daemon/store/store.h"
#include "tests/unit/test_support.h"

using namespace twofactor;

namespace {

bool g_postgresql = false;
nlohmann::json g_cluster;
int g_databases = 0;

std::array<unsigned char, kKeyBytes> test_key(unsigned char first) {
    std::array<unsigned char, kKeyBytes> key{};
    for (std::size_t i = 0; i < key.size(); ++i) key[i] = static_cast<unsigned char>(first + i);
    return key;
}

void admin_sql(const std::string& sql) {
    PGconn* conn = PQconnectdb(g_cluster["admin"].get<std::string>().c_str());
    if (PQstatus(conn) != CONNECTION_OK) fail_msg("admin connection: %s", PQerrorMessage(conn));
    PGresult* r = PQexec(conn, sql.c_str());
    if (PQresultStatus(r) != PGRES_COMMAND_OK)
        fail_msg("%s: %s", sql.c_str(), PQresultErrorMessage(r));
    PQclear(r);
    PQfinish(conn);
}

std::int64_t admin_number(const std::string& sql) {
    PGconn* conn = PQconnectdb(g_cluster["admin"].get<std::string>().c_str());
    if (PQstatus(conn) != CONNECTION_OK) fail_msg("admin connection: %s", PQerrorMessage(conn));
    PGresult* r = PQexec(conn, sql.c_str());
    if (PQresultStatus(r) != PGRES_TUPLES_OK)
        fail_msg("%s: %s", sql.c_str(), PQresultErrorMessage(r));
    const std::int64_t value = std::stoll(PQgetvalue(r, 0, 0));
    PQclear(r);
    PQfinish(conn);
    return value;
}

void sqlite_sql(const std::string& path, const std::string& sql) {
    sqlite3* db = nullptr;
    if (sqlite3_open(path.c_str(), &db) != SQLITE_OK) fail_msg("cannot open %s", path.c_str());
    char* error = nullptr;
    if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error) != SQLITE_OK)
        fail_msg("%s: %s", sql.c_str(), error != nullptr ? error : "?");
    sqlite3_free(error);
    sqlite3_close(db);
}

// One empty database (or SQLite file) per test.
struct Fixture {
    test::TempDir dir;
    Cipher cipher{test_key(1)};
    StoreSettings settings;
    std::string database;

    Fixture() {
        if (!g_postgresql) {
            settings.database = dir.file("twofactord.db");
            return;
        }
        database = "rules_" + std::to_string(::getpid()) + "_" + std::to_string(++g_databases);
        admin_sql("CREATE DATABASE " + database + " OWNER twofactord");
        settings.backend = StoreSettings::Backend::Postgresql;
        settings.conninfo = "host=127.0.0.1 port=" + std::to_string(g_cluster["port"].get<int>()) +
                            " user=twofactord dbname=" + database;
        settings.password = SecureString(g_cluster["password"].get<std::string>());
    }
    ~Fixture() {
        if (g_postgresql) admin_sql("DROP DATABASE IF EXISTS " + database + " WITH (FORCE)");
    }
    std::unique_ptr<Store> open() { return open_store(settings, cipher); }
    // Runs SQL on the database directly, as someone with the database (its file, or the role's
    // password) and not the key. {user} is the user column's name in this backend.
    void raw_sql(std::string sql) const {
        const std::string column = g_postgresql ? "user_name" : "user";
        for (auto at = sql.find("{user}"); at != std::string::npos; at = sql.find("{user}"))
            sql.replace(at, 6, column);
        if (!g_postgresql) return sqlite_sql(settings.database, sql);
        PGconn* conn = PQconnectdb(
            (settings.conninfo + " password=" + std::string(settings.password.view())).c_str());
        if (PQstatus(conn) != CONNECTION_OK) fail_msg("connection: %s", PQerrorMessage(conn));
        PGresult* r = PQexec(conn, sql.c_str());
        if (PQresultStatus(r) != PGRES_COMMAND_OK)
            fail_msg("%s: %s", sql.c_str(), PQresultErrorMessage(r));
        PQclear(r);
        PQfinish(conn);
    }
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

Enrollment enrollment(const std::string& user) {
    Enrollment e;
    e.user = user;
    e.secret = SecureString(std::string("8MJJfCY4ERBtotvenSc3"));
    e.mobile_phone = "+15555550123";
    e.enabled_at = 1700000000;
    return e;
}

Challenge challenge(const std::string& id, const std::string& user, std::int64_t expires_at) {
    Challenge c;
    c.id = id;
    c.user = user;
    c.texted_step = 1234;
    c.expires_at = expires_at;
    c.attempts_left = 2;
    c.resends_left = 1;
    c.ip_address = "192.0.2.7";
    return c;
}

constexpr const char* kHost = "host-a";

Trust trust(const std::string& user, const std::string& service, const std::string& origin,
            std::int64_t created_at, std::int64_t expires_at, const std::string& host = kHost) {
    return Trust{user, service, origin, host, created_at, expires_at};
}

void enrollments_round_trip(void** state) {
    auto store = fixture(state).open();
    assert_false(store->get_enrollment("alice").has_value());
    store->put_enrollment(enrollment("alice"));
    Enrollment bob = enrollment("bob");
    bob.delivery = Delivery::None;
    bob.mobile_phone.clear();
    store->put_enrollment(bob);
    assert_int_equal(store->count_enrollments(), 2);
    auto got = store->get_enrollment("alice");
    assert_true(got.has_value());
    assert_true(got->secret.view() == "8MJJfCY4ERBtotvenSc3");
    assert_string_equal(got->mobile_phone.c_str(), "+15555550123");
    assert_int_equal(got->enabled_at, 1700000000);
    got = store->get_enrollment("bob");
    assert_true(got->delivery == Delivery::None);
    assert_true(got->mobile_phone.empty());
}

void another_key_cannot_read(void** state) {
    Fixture& f = fixture(state);
    f.open()->put_enrollment(enrollment("alice"));
    Cipher other(test_key(9));
    auto store = open_store(f.settings, other);
    auto message = test::message_of<StoreError>([&] { (void)store->get_enrollment("alice"); });
    assert_true(test::contains(message, "does not decrypt"));
}

void steps_are_single_use(void** state) {
    auto store = fixture(state).open();
    assert_true(store->use_step("alice", 100));
    assert_false(store->use_step("alice", 100));
    assert_true(store->use_step("bob", 100));
    assert_true(store->step_used("alice", 100));
    assert_false(store->step_used("alice", 101));
    store->prune_steps(101);
    assert_false(store->step_used("alice", 100));
}

// Eight connections race for the same steps: the database lets exactly one win each.
void steps_are_single_use_across_connections(void** state) {
    Fixture& f = fixture(state);
    f.open();  // migrate once before the race
    constexpr int kThreads = 8;
    constexpr int kSteps = 40;
    std::atomic<int> wins{0};
    std::atomic<int> errors{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&] {
            try {
                auto store = f.open();
                for (int s = 0; s < kSteps; ++s) {
                    if (store->use_step("alice", 5000 + static_cast<std::uint64_t>(s))) ++wins;
                }
            } catch (const std::exception&) {
                ++errors;
            }
        });
    }
    for (auto& t : threads) t.join();
    assert_int_equal(errors.load(), 0);
    assert_int_equal(wins.load(), kSteps);
}

void failures_count_to_a_lock(void** state) {
    auto store = fixture(state).open();
    const LockoutPolicy policy{3, 900, 600};
    FailureState s = store->add_failure("alice", 1000, policy);
    assert_int_equal(s.failures, 1);
    assert_int_equal(s.first_failure, 1000);
    assert_int_equal(s.locked_until, 0);
    s = store->add_failure("alice", 1010, policy);
    assert_int_equal(s.failures, 2);
    s = store->add_failure("alice", 1020, policy);
    assert_int_equal(s.failures, 3);
    assert_int_equal(s.locked_until, 1620);
    assert_int_equal(store->get_failures("alice").locked_until, 1620);
    // A new window starts over, but keeps the lock until it ends.
    s = store->add_failure("alice", 2000, policy);
    assert_int_equal(s.failures, 1);
    assert_int_equal(s.first_failure, 2000);
    store->put_failures("alice", FailureState{});
    assert_int_equal(store->get_failures("alice").failures, 0);
    assert_int_equal(store->get_failures("bob").failures, 0);
}

// The store counts failures by the one lockout rule: a run of wrong codes across windows,
// locks and a lock that outlives its window gives, step by step, what next_failure_state says.
void failures_follow_the_lockout_rule(void** state) {
    auto store = fixture(state).open();
    const LockoutPolicy policy{3, 100, 250};
    FailureState expected;
    for (std::int64_t now : {1000, 1010, 1020, 1030, 1130, 1140, 1150, 1160, 1500, 1600}) {
        expected = next_failure_state(expected, now, policy);
        const FailureState got = store->add_failure("alice", now, policy);
        assert_int_equal(got.failures, expected.failures);
        assert_int_equal(got.first_failure, expected.first_failure);
        assert_int_equal(got.locked_until, expected.locked_until);
    }
    assert_int_equal(expected.locked_until, 1410);  // locked at 1160, kept past a new window
}

void failures_from_many_connections_all_count(void** state) {
    Fixture& f = fixture(state);
    f.open();
    const LockoutPolicy policy{1000, 900, 600};
    std::vector<std::thread> threads;
    std::atomic<int> errors{0};
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&] {
            try {
                auto store = f.open();
                for (int i = 0; i < 25; ++i) store->add_failure("alice", 1000, policy);
            } catch (const std::exception&) {
                ++errors;
            }
        });
    }
    for (auto& t : threads) t.join();
    assert_int_equal(errors.load(), 0);
    assert_int_equal(f.open()->get_failures("alice").failures, 100);
}

// The enrollment and the failures in one read, whichever of them there is.
void login_state_reads_enrollment_and_failures(void** state) {
    auto store = fixture(state).open();
    LoginState s = store->login_state("alice");
    assert_false(s.enrollment.has_value());
    assert_int_equal(s.failures.failures, 0);
    assert_int_equal(s.failures.first_failure, 0);

    const LockoutPolicy policy{3, 900, 600};
    store->add_failure("alice", 1000, policy);
    s = store->login_state("alice");
    assert_false(s.enrollment.has_value());
    assert_int_equal(s.failures.failures, 1);
    assert_int_equal(s.failures.first_failure, 1000);

    store->put_enrollment(enrollment("alice"));
    store->add_failure("alice", 1010, policy);
    store->add_failure("alice", 1020, policy);
    s = store->login_state("alice");
    assert_true(s.enrollment.has_value());
    assert_true(s.enrollment->secret.view() == "8MJJfCY4ERBtotvenSc3");
    assert_string_equal(s.enrollment->mobile_phone.c_str(), "+15555550123");
    assert_int_equal(s.enrollment->enabled_at, 1700000000);
    assert_int_equal(s.failures.failures, 3);
    assert_int_equal(s.failures.locked_until, 1620);

    store->put_failures("alice", FailureState{});
    s = store->login_state("alice");
    assert_true(s.enrollment.has_value());
    assert_int_equal(s.failures.failures, 0);
    assert_int_equal(s.failures.locked_until, 0);
    assert_false(store->login_state("bob").enrollment.has_value());
}

// One store used by more threads than it has connections, as the daemon's workers use
// it: each call runs on a connection of its own, the database still decides every rule, and a
// transaction's statements stay on its thread's connection.
void one_store_serves_many_threads(void** state) {
    if (!g_postgresql) skip();  // SQLite is used by one thread
    Fixture& f = fixture(state);
    f.settings.connections = 4;
    auto store = f.open();
    constexpr int kThreads = 8;
    constexpr int kSteps = 40;
    const LockoutPolicy policy{100000, 900, 600};
    std::atomic<int> wins{0};
    std::atomic<int> errors{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&, t] {
            try {
                const std::string user = "user" + std::to_string(t);
                for (int s = 0; s < kSteps; ++s) {
                    if (store->use_step("alice", 7000 + static_cast<std::uint64_t>(s))) ++wins;
                    store->add_failure("alice", 1000, policy);
                    // enable() is a transaction whose statements are other store calls.
                    store->enable(enrollment(user), 9000 + static_cast<std::uint64_t>(s));
                    if (store->use_step(user, 9000 + static_cast<std::uint64_t>(s))) ++errors;
                }
            } catch (const std::exception& e) {
                print_error("thread failed: %s\n", e.what());
                ++errors;
            }
        });
    }
    for (auto& t : threads) t.join();
    assert_int_equal(errors.load(), 0);
    assert_int_equal(wins.load(), kSteps);
    assert_int_equal(store->get_failures("alice").failures, kThreads * kSteps);
    assert_int_equal(store->count_enrollments(), kThreads);
    // The calls ran on several connections, and on no more than the store was given.
    const std::int64_t open = admin_number(
        "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'twofactord' AND "
        "datname = '" +
        f.database + "'");
    assert_in_range(open, 2, 4);
}

// The server ends the store's connections (a restart): the next calls reconnect and prepare
// their statements again on the new connections.
void calls_after_lost_connections_work(void** state) {
    if (!g_postgresql) skip();  // a file has no connection to lose
    Fixture& f = fixture(state);
    auto store = f.open();
    store->put_enrollment(enrollment("alice"));
    assert_true(store->use_step("alice", 100));
    assert_true(store->login_state("alice").enrollment.has_value());
    const std::string ours = "application_name = 'twofactord' AND datname = '" + f.database + "'";
    assert_int_equal(admin_number("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                                  "WHERE " +
                                  ours),
                     1);
    for (int i = 0;
         i < 50 && admin_number("SELECT count(*) FROM pg_stat_activity WHERE " + ours) > 0; ++i)
        usleep(20000);
    assert_true(store->login_state("alice").enrollment.has_value());
    assert_false(store->use_step("alice", 100));
    assert_true(store->use_step("alice", 101));
}

void challenges_round_trip(void** state) {
    auto store = fixture(state).open();
    store->put_challenge(challenge("c1", "alice", 2000));
    Challenge none = challenge("c2", "alice", 3000);
    none.texted_step.reset();
    none.delivery = Delivery::None;
    store->put_challenge(none);
    store->put_challenge(challenge("c3", "bob", 1500));
    auto c = store->get_challenge("c1");
    assert_true(c.has_value());
    assert_string_equal(c->user.c_str(), "alice");
    assert_true(c->texted_step && *c->texted_step == 1234);
    assert_int_equal(c->expires_at, 2000);
    assert_string_equal(c->ip_address.c_str(), "192.0.2.7");
    assert_int_equal(c->trust_seconds, 0);
    assert_true(c->origin.empty());
    c = store->get_challenge("c2");
    assert_false(c->texted_step.has_value());
    assert_true(c->delivery == Delivery::None);
    assert_int_equal(store->challenges_of("alice").size(), 2);
    assert_int_equal(store->count_challenges(), 3);

    assert_int_equal(*store->spend_attempt("c1"), 1);
    assert_int_equal(*store->spend_attempt("c1"), 0);
    assert_false(store->spend_attempt("c1").has_value());
    assert_int_equal(*store->spend_resend("c1"), 0);
    assert_false(store->spend_resend("c1").has_value());
    assert_false(store->spend_attempt("nope").has_value());

    // A text that did not go out leaves no step; one that did later sets it.
    store->set_texted_step("c1", std::nullopt);
    assert_false(store->get_challenge("c1")->texted_step.has_value());
    store->set_texted_step("c2", 4321);
    assert_true(store->get_challenge("c2")->texted_step == std::optional<std::uint64_t>(4321));
    store->set_texted_step("nope", 1);  // a challenge gone meanwhile: nothing to set

    store->expire_challenges(1500);
    assert_false(store->get_challenge("c3").has_value());
    assert_true(store->delete_challenge("c1"));
    assert_false(store->delete_challenge("c1"));
    store->delete_challenges_of("alice");
    assert_int_equal(store->count_challenges(), 0);
}

void challenges_keep_their_trust_request(void** state) {
    auto store = fixture(state).open();
    Challenge c = challenge("c1", "alice", 2000);
    c.service = "sshd";
    c.trust_seconds = 600;
    c.origin = "198.51.100.4";
    store->put_challenge(c);
    auto got = store->get_challenge("c1");
    assert_int_equal(got->trust_seconds, 600);
    assert_string_equal(got->service.c_str(), "sshd");
    assert_string_equal(got->origin.c_str(), "198.51.100.4");
    assert_int_equal(store->challenges_of("alice").front().trust_seconds, 600);
}

void trusts_round_trip(void** state) {
    auto store = fixture(state).open();
    assert_false(store->get_trust("alice", "sshd", "198.51.100.4", kHost).has_value());
    store->put_trust(trust("alice", "sshd", "198.51.100.4", 1000, 1600));
    store->put_trust(trust("alice", "sudo", "tty:/dev/pts/3", 1000, 2000));
    store->put_trust(trust("bob", "sshd", "198.51.100.4", 1000, 5000));
    auto got = store->get_trust("alice", "sshd", "198.51.100.4", kHost);
    assert_true(got.has_value());
    assert_int_equal(got->created_at, 1000);
    assert_int_equal(got->expires_at, 1600);
    // Service and origin are both part of the key.
    assert_false(store->get_trust("alice", "sshd", "198.51.100.5", kHost).has_value());
    assert_false(store->get_trust("alice", "login", "198.51.100.4", kHost).has_value());
    // Another host: none of its own, then one beside the first host's.
    assert_false(store->get_trust("alice", "sshd", "198.51.100.4", "host-b").has_value());
    store->put_trust(trust("alice", "sshd", "198.51.100.4", 1000, 1700, "host-b"));
    assert_int_equal(store->get_trust("alice", "sshd", "198.51.100.4", "host-b")->expires_at, 1700);
    assert_int_equal(store->get_trust("alice", "sshd", "198.51.100.4", kHost)->expires_at, 1600);
    assert_int_equal(store->forget_trusts("alice"), 3);
    store->put_trust(trust("alice", "sshd", "198.51.100.4", 1000, 1600));
    store->put_trust(trust("alice", "sudo", "tty:/dev/pts/3", 1000, 2000));
    // Putting it again replaces it.
    store->put_trust(trust("alice", "sshd", "198.51.100.4", 1500, 2100));
    assert_int_equal(store->get_trust("alice", "sshd", "198.51.100.4", kHost)->created_at, 1500);
    auto all = store->trusts_of("alice");
    assert_int_equal(all.size(), 2);
    assert_string_equal(all[0].service.c_str(), "sshd");
    assert_string_equal(all[1].origin.c_str(), "tty:/dev/pts/3");

    store->expire_trusts(2000);  // alice's sudo trust ends at 2000
    assert_int_equal(store->trusts_of("alice").size(), 1);
    assert_int_equal(store->forget_trusts("alice"), 1);
    assert_int_equal(store->forget_trusts("alice"), 0);
    assert_true(store->trusts_of("alice").empty());
    assert_int_equal(store->trusts_of("bob").size(), 1);
}

// Someone with the database and not the key writes trusts: a new row, a row moved to another
// user, a row made longer. None of them is honoured or listed; the trusts the key made are.
void trusts_written_without_the_key_are_not_honoured(void** state) {
    Fixture& f = fixture(state);
    auto store = f.open();
    store->put_trust(trust("alice", "sshd", "198.51.100.4", 1000, 1600));
    store->put_trust(trust("alice", "sudo", "tty:/dev/pts/0", 1000, 1600));
    store->put_trust(trust("carol", "sudo", "tty:/dev/pts/0", 1000, 1600));
    f.raw_sql(
        "INSERT INTO trusts ({user}, service, origin, host, created_at, expires_at) "
        "VALUES ('bob', 'sshd', '198.51.100.4', 'host-a', 1000, 99999)");
    f.raw_sql("UPDATE trusts SET {user} = 'mallory' WHERE {user} = 'alice' AND service = 'sudo'");
    f.raw_sql("UPDATE trusts SET expires_at = 99999 WHERE {user} = 'carol'");

    assert_false(store->get_trust("bob", "sshd", "198.51.100.4", kHost).has_value());
    assert_false(store->get_trust("mallory", "sudo", "tty:/dev/pts/0", kHost).has_value());
    assert_false(store->get_trust("carol", "sudo", "tty:/dev/pts/0", kHost).has_value());
    assert_true(store->trusts_of("bob").empty());
    assert_true(store->trusts_of("mallory").empty());
    assert_true(store->trusts_of("carol").empty());
    // What the key made still works, after a restart too, and is all there is to copy.
    store = f.open();
    auto genuine = store->get_trust("alice", "sshd", "198.51.100.4", kHost);
    assert_true(genuine.has_value());
    assert_int_equal(genuine->expires_at, 1600);
    assert_int_equal(store->trusts_of("alice").size(), 1);
    auto all = store->all_trusts();
    assert_int_equal(all.size(), 1);
    assert_string_equal(all[0].user.c_str(), "alice");
}

// --import-sqlite's copy: the trusts the key made arrive with their MAC (the same key makes it
// again) and are honoured there; a forged row is not copied.
void import_copies_only_the_trusts_the_key_made(void** state) {
    Fixture& f = fixture(state);
    auto from = f.open();
    from->put_enrollment(enrollment("alice"));
    from->put_enrollment(enrollment("bob"));
    const std::int64_t made = enrollment("alice").enabled_at + 100;
    from->put_trust(trust("alice", "sudo", "tty:/dev/pts/0", made, made + 600));
    f.raw_sql(
        "INSERT INTO trusts ({user}, service, origin, host, created_at, expires_at) VALUES "
        "('bob', 'sudo', 'tty:/dev/pts/0', 'host-a', " +
        std::to_string(made) + ", " + std::to_string(made + 600) + ")");
    SqliteStore to(f.dir.file("copy.db"), f.cipher);
    const ImportCounts counts = import_store(*from, to);
    assert_int_equal(counts.trusts, 1);
    assert_true(to.get_trust("alice", "sudo", "tty:/dev/pts/0", kHost).has_value());
    assert_false(to.get_trust("bob", "sudo", "tty:/dev/pts/0", kHost).has_value());
    assert_int_equal(to.all_trusts().size(), 1);
}

// A database from before trusts had a host and a MAC (SQLite 5, PostgreSQL 3): migrating drops
// its trusts, which then ask for the code once more, and keeps the rest.
void migrating_drops_the_trusts_made_before_macs(void** state) {
    Fixture& f = fixture(state);
    f.open()->use_step("alice", 7);
    f.raw_sql("DROP TABLE trusts");
    f.raw_sql(
        "CREATE TABLE trusts ({user} text NOT NULL, service text NOT NULL, origin text NOT "
        "NULL, created_at bigint NOT NULL, expires_at bigint NOT NULL, PRIMARY KEY "
        "({user}, service, origin))");
    f.raw_sql("INSERT INTO trusts VALUES ('alice', 'sudo', 'tty:/dev/pts/0', 1000, 99999)");
    f.raw_sql(g_postgresql ? "UPDATE twofactor_schema SET version = 3" : "PRAGMA user_version = 5");
    auto store = f.open();
    assert_true(store->trusts_of("alice").empty());
    assert_true(store->step_used("alice", 7));
    store->put_trust(trust("alice", "sudo", "tty:/dev/pts/0", 1000, 99999));
    assert_true(store->get_trust("alice", "sudo", "tty:/dev/pts/0", kHost).has_value());
}

// disable and a new phone or secret (enable over an enrollment) end the user's trusts.
void enrollment_changes_end_trusts(void** state) {
    auto store = fixture(state).open();
    store->enable(enrollment("alice"), 42);
    store->put_trust(trust("alice", "sshd", "198.51.100.4", 1000, 1600));
    store->put_trust(trust("bob", "sshd", "198.51.100.4", 1000, 1600));
    store->enable(enrollment("alice"), 43);
    assert_true(store->trusts_of("alice").empty());
    store->put_trust(trust("alice", "sshd", "198.51.100.4", 1000, 1600));
    assert_true(store->remove_enrollment("alice"));
    assert_true(store->trusts_of("alice").empty());
    assert_int_equal(store->trusts_of("bob").size(), 1);
}

void remove_clears_the_users_state(void** state) {
    auto store = fixture(state).open();
    store->enable(enrollment("alice"), 42);
    assert_true(store->step_used("alice", 42));
    store->add_failure("alice", 1000, LockoutPolicy{});
    store->put_challenge(challenge("c1", "alice", 2000));
    store->put_challenge(challenge("c2", "bob", 2000));
    assert_true(store->remove_enrollment("alice"));
    assert_false(store->remove_enrollment("alice"));
    assert_false(store->step_used("alice", 42));
    assert_int_equal(store->get_failures("alice").failures, 0);
    assert_false(store->get_challenge("c1").has_value());
    assert_true(store->get_challenge("c2").has_value());
}

RecoveryCodeSet recovery_set(const std::string& salt, int count) {
    RecoveryCodeSet set{salt, {}};
    for (int i = 0; i < count; ++i) set.hashes.push_back(salt + "-hash-" + std::to_string(i));
    return set;
}

void recovery_codes_are_single_use_and_replaced_whole(void** state) {
    auto store = fixture(state).open();
    assert_false(store->recovery_salt("alice").has_value());
    assert_int_equal(store->count_recovery_codes("alice"), 0);
    store->replace_recovery_codes("alice", recovery_set("salt-one", 10));
    store->replace_recovery_codes("bob", recovery_set("salt-bob", 10));
    assert_int_equal(store->count_recovery_codes("alice"), 10);
    assert_string_equal(store->recovery_salt("alice")->c_str(), "salt-one");

    assert_true(store->use_recovery_code("alice", "salt-one-hash-3"));
    assert_false(store->use_recovery_code("alice", "salt-one-hash-3"));  // once
    assert_false(store->use_recovery_code("alice", "salt-bob-hash-4"));  // not another's
    assert_int_equal(store->count_recovery_codes("alice"), 9);

    // A new set replaces every code of the old one.
    store->replace_recovery_codes("alice", recovery_set("salt-two", 10));
    assert_false(store->use_recovery_code("alice", "salt-one-hash-5"));
    assert_true(store->use_recovery_code("alice", "salt-two-hash-5"));
    assert_string_equal(store->recovery_salt("alice")->c_str(), "salt-two");
    assert_int_equal(store->count_recovery_codes("bob"), 10);

    // Removing the enrollment, or enabling anew, clears the set.
    store->enable(enrollment("bob"), 7);
    assert_int_equal(store->count_recovery_codes("bob"), 0);
    store->replace_recovery_codes("bob", recovery_set("salt-bob", 10));
    store->remove_enrollment("bob");
    assert_false(store->recovery_salt("bob").has_value());

    auto all = store->all_recovery_codes();
    assert_int_equal(all.size(), 1);
    assert_string_equal(all[0].first.c_str(), "alice");
    assert_int_equal(all[0].second.hashes.size(), 9);
}

void a_recovery_code_is_used_once_across_connections(void** state) {
    Fixture& f = fixture(state);
    f.open()->replace_recovery_codes("alice", recovery_set("salt", 10));
    constexpr int kThreads = 8;
    std::atomic<int> wins{0};
    std::atomic<int> errors{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&] {
            try {
                auto store = f.open();
                for (int i = 0; i < 10; ++i)
                    if (store->use_recovery_code("alice", "salt-hash-" + std::to_string(i))) ++wins;
            } catch (const std::exception&) {
                ++errors;
            }
        });
    }
    for (auto& t : threads) t.join();
    assert_int_equal(errors.load(), 0);
    assert_int_equal(wins.load(), 10);
    assert_int_equal(f.open()->count_recovery_codes("alice"), 0);
}

// A literal of this backend's blob type holding `bytes` (ASCII), for raw_sql.
std::string blob(const std::string& bytes) {
    return g_postgresql ? "convert_to('" + bytes + "', 'UTF8')" : "CAST('" + bytes + "' AS BLOB)";
}

// Someone with the database and not the key writes recovery-code rows: one of their own for a
// user without codes, one more in a user's set, a genuine row copied to another user. None of
// them is a way in; the codes the key stored still are.
void recovery_codes_written_without_the_key_do_not_work(void** state) {
    Fixture& f = fixture(state);
    auto store = f.open();
    store->replace_recovery_codes("alice", recovery_set("salt-one", 3));
    f.raw_sql("INSERT INTO recovery_codes ({user}, salt, hash) VALUES ('bob', " + blob("salt-m") +
              ", " + blob("salt-m-hash-0") + ")");
    f.raw_sql("INSERT INTO recovery_codes ({user}, salt, hash) VALUES ('alice', " +
              blob("salt-one") + ", " + blob("salt-one-hash-7") + ")");
    f.raw_sql(
        "INSERT INTO recovery_codes ({user}, salt, hash) SELECT 'carol', salt, hash "
        "FROM recovery_codes WHERE {user} = 'alice'");

    assert_false(store->use_recovery_code("bob", "salt-m-hash-0"));
    assert_false(store->use_recovery_code("alice", "salt-one-hash-7"));
    for (int i = 0; i < 3; ++i)
        assert_false(store->use_recovery_code("carol", "salt-one-hash-" + std::to_string(i)));
    store = f.open();
    assert_true(store->use_recovery_code("alice", "salt-one-hash-1"));
    assert_false(store->use_recovery_code("alice", "salt-one-hash-1"));
}

// A database from before recovery codes were keyed (SQLite 6, PostgreSQL 4): opening it with
// the key rewrites every row into the keyed form once, so its users' codes keep working; with
// another key it stops and rewrites nothing.
void migrating_keeps_the_recovery_codes_made_before_keying(void** state) {
    Fixture& f = fixture(state);
    {
        auto store = f.open();
        store->put_enrollment(enrollment("alice"));
        check_key(*store, f.cipher, "test key", "test database");
    }
    for (int i = 0; i < 3; ++i)
        f.raw_sql("INSERT INTO recovery_codes ({user}, salt, hash) VALUES ('alice', " +
                  blob("salt") + ", " + blob("salt-hash-" + std::to_string(i)) + ")");
    f.raw_sql(g_postgresql ? "UPDATE twofactor_schema SET version = 4" : "PRAGMA user_version = 6");

    const Cipher other(test_key(9));
    bool refused = false;
    try {
        open_store(f.settings, other);
    } catch (const std::exception&) {
        refused = true;
    }
    assert_true(refused);

    auto store = f.open();
    const auto keyed = store->all_recovery_codes();
    assert_int_equal(keyed.size(), 1);
    assert_int_equal(keyed[0].second.hashes.size(), 3);
    for (const auto& hash : keyed[0].second.hashes)
        assert_true(hash.rfind("salt-hash-", 0) != 0);  // no longer the bare hash
    store = f.open();  // rewritten once: opening again changes nothing
    const auto again = store->all_recovery_codes();
    assert_int_equal(again.size(), 1);
    assert_true(again[0].second.salt == keyed[0].second.salt);
    assert_true(again[0].second.hashes == keyed[0].second.hashes);
    assert_true(store->use_recovery_code("alice", "salt-hash-1"));
    assert_false(store->use_recovery_code("alice", "salt-hash-1"));
    assert_int_equal(store->count_recovery_codes("alice"), 2);
}

// --import-sqlite copies the rows as they are (the same key): the genuine codes work in the
// target, and a row forged in the source works there no more than it did in the source.
void import_keeps_the_recovery_codes_working(void** state) {
    Fixture& f = fixture(state);
    auto from = f.open();
    from->replace_recovery_codes("alice", recovery_set("salt", 3));
    f.raw_sql("INSERT INTO recovery_codes ({user}, salt, hash) VALUES ('bob', " + blob("salt-m") +
              ", " + blob("salt-m-hash-0") + ")");
    SqliteStore to(f.dir.file("copy.db"), f.cipher);
    const ImportCounts counts = import_store(*from, to);
    assert_int_equal(counts.recovery_sets, 2);
    assert_true(to.use_recovery_code("alice", "salt-hash-2"));
    assert_false(to.use_recovery_code("alice", "salt-hash-2"));
    assert_int_equal(to.count_recovery_codes("alice"), 2);
    assert_false(to.use_recovery_code("bob", "salt-m-hash-0"));
}

void everything_survives_reopening(void** state) {
    Fixture& f = fixture(state);
    {
        auto store = f.open();
        store->enable(enrollment("alice"), 42);
        store->add_failure("alice", 1000, LockoutPolicy{});
        store->put_challenge(challenge("c1", "alice", 2000));
        store->record_event("text:alice", 1000);
        store->put_trust(trust("alice", "sshd", "198.51.100.4", 1000, 1600));
    }
    auto store = f.open();
    assert_true(store->get_enrollment("alice").has_value());
    assert_true(store->step_used("alice", 42));
    assert_int_equal(store->get_failures("alice").failures, 1);
    assert_true(store->get_challenge("c1").has_value());
    assert_int_equal(store->count_events("text:alice", 0).count, 1);
    assert_true(store->get_trust("alice", "sshd", "198.51.100.4", kHost).has_value());
}

void events_count_in_a_window(void** state) {
    auto store = fixture(state).open();
    store->record_event("text:alice", 100);
    store->record_event("text:alice", 200);
    store->record_event("text:alice", 300);
    store->record_event("text:bob", 300);
    WindowCount w = store->count_events("text:alice", 150);
    assert_int_equal(w.count, 2);
    assert_int_equal(w.oldest, 200);
    assert_int_equal(store->count_events("text:carol", 0).count, 0);
    store->prune_events(250);
    assert_int_equal(store->count_events("text:alice", 0).count, 1);
}

// Taking one of a key's events in the window: taken while fewer than the limit are there,
// refused after with the seconds until the oldest leaves the window, which then lets one more in.
void events_are_taken_up_to_the_limit(void** state) {
    auto store = fixture(state).open();
    assert_int_equal(store->take_event("text:alice", 0, 2, 1000), 0);
    assert_int_equal(store->take_event("text:alice", 0, 2, 1100), 0);
    // Window [500, 4100): full; the event at 1000 leaves it 500 seconds on.
    assert_int_equal(store->take_event("text:alice", 500, 2, 4100), 500);
    assert_int_equal(store->count_events("text:alice", 0).count, 2);  // a refusal takes nothing
    assert_int_equal(store->take_event("text:bob", 500, 2, 4100), 0);
    // The event at 1000 is out of the window that starts at 1000.
    assert_int_equal(store->take_event("text:alice", 1000, 2, 4600), 0);
    assert_int_equal(store->take_event("text:alice", 1000, 2, 4600), 1100 - 1000);
}

// What `twofactorctl status` shows of the budgets: the keys under a prefix with the most events
// in the window, most first, ties by key; other keys and older events are not counted. A key
// holding '%' or '_' matches only itself (no LIKE pattern).
void busiest_events_count_by_key_under_a_prefix(void** state) {
    auto store = fixture(state).open();
    for (int i = 0; i < 3; ++i) store->record_event("budget:prefix:+1202555", 1000 + i);
    for (int i = 0; i < 2; ++i) store->record_event("budget:prefix:+1303555", 1000 + i);
    store->record_event("budget:prefix:+1303555", 100);  // before the window
    store->record_event("budget:prefix:+1415555", 1000);
    store->record_event("budget:prefix:+1999999", 1000);
    store->record_event("budget:day", 1000);
    store->record_event("text:alice", 1000);
    store->record_event("budget:prefix_x", 1000);
    auto busiest = store->busiest_events("budget:prefix:", 500, 3);
    assert_int_equal(busiest.size(), 3);
    assert_string_equal(busiest[0].first.c_str(), "budget:prefix:+1202555");
    assert_int_equal(busiest[0].second, 3);
    assert_string_equal(busiest[1].first.c_str(), "budget:prefix:+1303555");
    assert_int_equal(busiest[1].second, 2);
    assert_string_equal(busiest[2].first.c_str(), "budget:prefix:+1415555");
    assert_int_equal(busiest[2].second, 1);
    assert_int_equal(store->busiest_events("budget:prefix:", 5000, 3).size(), 0);
    assert_int_equal(store->busiest_events("budget:prefix%", 500, 10).size(), 0);
}

// Daemons (connections) racing for the last events of a key: exactly `limit` of them get one,
// round after round.
void events_are_taken_once_across_connections(void** state) {
    Fixture& f = fixture(state);
    f.open();  // migrate once before the race
    constexpr int kThreads = 8;
    constexpr int kRounds = 40;
    constexpr int kLimit = 3;
    std::atomic<int> taken[kRounds] = {};
    std::atomic<int> errors{0};
    std::atomic<int> ready{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&] {
            try {
                auto store = f.open();
                store->count_events("text:none", 0);  // connected
                // Start together (bounded: ten seconds at most), so that the rounds overlap.
                ++ready;
                for (int i = 0; i < 10000 && ready.load() < kThreads; ++i) usleep(1000);
                for (int round = 0; round < kRounds; ++round) {
                    const std::string key = "text:user" + std::to_string(round);
                    for (int i = 0; i < 2; ++i)
                        if (store->take_event(key, 0, kLimit, 1000) == 0) ++taken[round];
                }
            } catch (const std::exception& e) {
                print_error("thread failed: %s\n", e.what());
                ++errors;
            }
        });
    }
    for (auto& t : threads) t.join();
    assert_int_equal(errors.load(), 0);
    int over = 0;
    for (int round = 0; round < kRounds; ++round) {
        if (taken[round].load() != kLimit)
            print_error("round %d: %d taken, limit %d\n", round, taken[round].load(), kLimit);
        if (taken[round].load() != kLimit) ++over;
    }
    assert_int_equal(over, 0);
}

// Daemons starting together against an empty database: each opens it, the schema is made once.
void concurrent_first_opens_migrate_once(void** state) {
    Fixture& f = fixture(state);
    std::atomic<int> errors{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 6; ++t) {
        threads.emplace_back([&] {
            try {
                f.open();
            } catch (const std::exception& e) {
                print_error("open failed: %s\n", e.what());
                ++errors;
            }
        });
    }
    for (auto& t : threads) t.join();
    assert_int_equal(errors.load(), 0);
    auto store = f.open();
    store->put_enrollment(enrollment("alice"));
    assert_int_equal(store->count_enrollments(), 1);
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 2 ||
        (std::strcmp(argv[1], "sqlite") != 0 && std::strcmp(argv[1], "postgresql") != 0)) {
        std::fprintf(stderr, "usage: %s sqlite|postgresql\n", argv[0]);
        return 2;
    }
    g_postgresql = std::strcmp(argv[1], "postgresql") == 0;
    if (g_postgresql) {
        const char* state = std::getenv("TWOFACTOR_TEST_PG");
        std::ifstream in(state != nullptr ? state : "");
        if (!in) {
            std::fprintf(stderr, "TWOFACTOR_TEST_PG must name the cluster's state file\n");
            return 1;
        }
        g_cluster = nlohmann::json::parse(in);
    }
    const CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(enrollments_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(another_key_cannot_read, setup, teardown),
        cmocka_unit_test_setup_teardown(steps_are_single_use, setup, teardown),
        cmocka_unit_test_setup_teardown(steps_are_single_use_across_connections, setup, teardown),
        cmocka_unit_test_setup_teardown(failures_count_to_a_lock, setup, teardown),
        cmocka_unit_test_setup_teardown(failures_follow_the_lockout_rule, setup, teardown),
        cmocka_unit_test_setup_teardown(failures_from_many_connections_all_count, setup, teardown),
        cmocka_unit_test_setup_teardown(login_state_reads_enrollment_and_failures, setup, teardown),
        cmocka_unit_test_setup_teardown(one_store_serves_many_threads, setup, teardown),
        cmocka_unit_test_setup_teardown(calls_after_lost_connections_work, setup, teardown),
        cmocka_unit_test_setup_teardown(challenges_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(challenges_keep_their_trust_request, setup, teardown),
        cmocka_unit_test_setup_teardown(trusts_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(enrollment_changes_end_trusts, setup, teardown),
        cmocka_unit_test_setup_teardown(migrating_drops_the_trusts_made_before_macs, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(import_copies_only_the_trusts_the_key_made, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(trusts_written_without_the_key_are_not_honoured, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(remove_clears_the_users_state, setup, teardown),
        cmocka_unit_test_setup_teardown(recovery_codes_are_single_use_and_replaced_whole, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(a_recovery_code_is_used_once_across_connections, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(recovery_codes_written_without_the_key_do_not_work, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(migrating_keeps_the_recovery_codes_made_before_keying,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(import_keeps_the_recovery_codes_working, setup, teardown),
        cmocka_unit_test_setup_teardown(everything_survives_reopening, setup, teardown),
        cmocka_unit_test_setup_teardown(events_count_in_a_window, setup, teardown),
        cmocka_unit_test_setup_teardown(events_are_taken_up_to_the_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(events_are_taken_once_across_connections, setup, teardown),
        cmocka_unit_test_setup_teardown(busiest_events_count_by_key_under_a_prefix, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(concurrent_first_opens_migrate_once, setup, teardown),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
