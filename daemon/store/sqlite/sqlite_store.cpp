// SPDX-License-Identifier: BSD-2-Clause
// The daemon's SQLite database. Secrets and phone numbers reach SQLite only as AES-256-GCM blobs;
// everything else (names, steps, counters) is stored as is.
#include "daemon/store/sqlite/sqlite_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <limits>
#include <thread>

#include "daemon/keys/sealing.h"
#include "daemon/keys/trust_mac.h"
#include "daemon/store/rules.h"
#include "daemon/store/sqlite/sqlite.h"
#include "daemon/store/sqlite/sqlite_migrations.h"

namespace twofactor {
namespace {

constexpr int kBusyTimeoutMs = 5000;
constexpr int kWalRetryMs = 10;

[[noreturn]] void fail_file(const std::string& path, const std::string& problem) {
    throw StoreError("database " + path + ": " + problem);
}

// Tightens a file to 0600 if it exists with more permissive bits; a missing file is fine.
void make_private(const std::string& path, bool create) {
    int flags = O_RDWR | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | (create ? O_CREAT : 0);
    int fd = ::open(path.c_str(), flags, 0600);
    if (fd < 0) {
        if (errno == ENOENT && !create) return;
        if (errno == ELOOP) fail_file(path, "is a symbolic link; configure the real path");
        fail_file(path, std::string("cannot open: ") + std::strerror(errno));
    }
    struct stat st {};
    std::string problem;
    if (::fstat(fd, &st) != 0)
        problem = std::string("cannot stat: ") + std::strerror(errno);
    else if (!S_ISREG(st.st_mode))
        problem = "not a regular file";
    else if ((st.st_mode & 07777) != 0600 && ::fchmod(fd, 0600) != 0)
        problem = std::string("cannot chmod 0600: ") + std::strerror(errno);
    ::close(fd);
    if (!problem.empty()) fail_file(path, problem);
}

}  // namespace

struct SqliteStore::Statements {
    Statements(sqlite3* db, const std::string& path)
        : put_enrollment(db, path,
                         "INSERT INTO users (name, secret, phone, delivery, enabled_at) "
                         "VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (name) DO UPDATE SET "
                         "secret = excluded.secret, phone = excluded.phone, "
                         "delivery = excluded.delivery, enabled_at = excluded.enabled_at"),
          get_enrollment(db, path,
                         "SELECT secret, phone, delivery, enabled_at FROM users WHERE name = ?1"),
          count_enrollments(db, path, "SELECT count(*) FROM users"),
          delete_user(db, path, "DELETE FROM users WHERE name = ?1"),
          delete_steps(db, path, "DELETE FROM used_steps WHERE user = ?1"),
          delete_failures(db, path, "DELETE FROM failures WHERE user = ?1"),
          delete_recovery_codes(db, path, "DELETE FROM recovery_codes WHERE user = ?1"),
          use_step(db, path,
                   "INSERT INTO used_steps (user, step) VALUES (?1, ?2) "
                   "ON CONFLICT (user, step) DO NOTHING"),
          step_used(db, path, "SELECT 1 FROM used_steps WHERE user = ?1 AND step = ?2"),
          prune_steps(db, path, "DELETE FROM used_steps WHERE step < ?1"),
          get_failures(db, path,
                       "SELECT failures, first_failure, locked_until FROM failures "
                       "WHERE user = ?1"),
          put_failures(db, path,
                       "INSERT INTO failures (user, failures, first_failure, locked_until) "
                       "VALUES (?1, ?2, ?3, ?4) ON CONFLICT (user) DO UPDATE SET "
                       "failures = excluded.failures, first_failure = excluded.first_failure, "
                       "locked_until = excluded.locked_until"),
          put_challenge(db, path,
                        "INSERT INTO challenges (id, user, delivery, texted_step, expires_at, "
                        "attempts_left, resends_left, ip_address, service, trust_seconds, origin) "
                        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"),
          get_challenge(db, path,
                        "SELECT id, user, delivery, texted_step, expires_at, attempts_left, "
                        "resends_left, ip_address, service, trust_seconds, origin "
                        "FROM challenges WHERE id = ?1"),
          challenges_of(db, path,
                        "SELECT id, user, delivery, texted_step, expires_at, attempts_left, "
                        "resends_left, ip_address, service, trust_seconds, origin "
                        "FROM challenges WHERE user = ?1"),
          delete_challenge(db, path, "DELETE FROM challenges WHERE id = ?1"),
          delete_challenges_of(db, path, "DELETE FROM challenges WHERE user = ?1"),
          expire_challenges(db, path, "DELETE FROM challenges WHERE expires_at <= ?1"),
          spend_attempt(db, path,
                        "UPDATE challenges SET attempts_left = attempts_left - 1 "
                        "WHERE id = ?1 AND attempts_left > 0 RETURNING attempts_left"),
          spend_resend(db, path,
                       "UPDATE challenges SET resends_left = resends_left - 1 "
                       "WHERE id = ?1 AND resends_left > 0 RETURNING resends_left"),
          set_texted_step(db, path, "UPDATE challenges SET texted_step = ?2 WHERE id = ?1"),
          count_challenges(db, path, "SELECT count(*) FROM challenges"),
          record_event(db, path, "INSERT INTO events (key, at) VALUES (?1, ?2)"),
          count_events(db, path,
                       "SELECT count(*), coalesce(min(at), 0) FROM events "
                       "WHERE key = ?1 AND at > ?2"),
          prune_events(db, path, "DELETE FROM events WHERE at <= ?1"),
          busiest_events(db, path,
                         "SELECT key, count(*) AS n FROM events "
                         "WHERE substr(key, 1, length(?1)) = ?1 AND at > ?2 "
                         "GROUP BY key ORDER BY n DESC, key LIMIT ?3"),
          put_trust(db, path,
                    "INSERT INTO trusts (user, service, origin, host, created_at, expires_at, "
                    "mac) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) "
                    "ON CONFLICT (user, service, origin, host) DO UPDATE "
                    "SET created_at = excluded.created_at, expires_at = excluded.expires_at, "
                    "mac = excluded.mac"),
          get_trust(db, path,
                    "SELECT user, service, origin, host, created_at, expires_at, mac FROM trusts "
                    "WHERE user = ?1 AND service = ?2 AND origin = ?3 AND host = ?4"),
          trusts_of(db, path,
                    "SELECT user, service, origin, host, created_at, expires_at, mac FROM trusts "
                    "WHERE user = ?1 ORDER BY service, origin, host"),
          delete_trusts(db, path, "DELETE FROM trusts WHERE user = ?1"),
          expire_trusts(db, path, "DELETE FROM trusts WHERE expires_at <= ?1"),
          get_metadata(db, path, "SELECT value FROM metadata WHERE name = ?1"),
          put_metadata(db, path,
                       "INSERT INTO metadata (name, value) VALUES (?1, ?2) "
                       "ON CONFLICT (name) DO UPDATE SET value = excluded.value"),
          sample_user(db, path, "SELECT name FROM users ORDER BY name LIMIT 1") {}

    sql::Statement put_enrollment, get_enrollment, count_enrollments;
    sql::Statement delete_user, delete_steps, delete_failures, delete_recovery_codes;
    sql::Statement use_step, step_used, prune_steps;
    sql::Statement get_failures, put_failures;
    sql::Statement put_challenge, get_challenge, challenges_of, delete_challenge,
        delete_challenges_of, expire_challenges, spend_attempt, spend_resend, set_texted_step,
        count_challenges;
    sql::Statement record_event, count_events, prune_events, busiest_events;
    sql::Statement put_trust, get_trust, trusts_of, delete_trusts, expire_trusts;
    sql::Statement get_metadata, put_metadata, sample_user;
};

namespace {

Challenge read_challenge(sql::Statement& s) {
    Challenge c;
    c.id = std::string(s.column_text(0));
    c.user = std::string(s.column_text(1));
    c.delivery = parse_delivery(s.column_text(2)).value_or(Delivery::TextMessage);
    if (!s.column_is_null(3)) c.texted_step = static_cast<std::uint64_t>(s.column_int64(3));
    c.expires_at = s.column_int64(4);
    c.attempts_left = sealing::clamp_int(s.column_int64(5));
    c.resends_left = sealing::clamp_int(s.column_int64(6));
    c.ip_address = std::string(s.column_text(7));
    c.service = std::string(s.column_text(8));
    c.trust_seconds = s.column_int64(9);
    c.origin = std::string(s.column_text(10));
    return c;
}

Trust read_trust(sql::Statement& s) {
    return Trust{std::string(s.column_text(0)),
                 std::string(s.column_text(1)),
                 std::string(s.column_text(2)),
                 std::string(s.column_text(3)),
                 s.column_int64(4),
                 s.column_int64(5)};
}

FailureState read_failures(sql::Statement& s) {
    FailureState state;
    state.failures = sealing::clamp_int(s.column_int64(0));
    state.first_failure = s.column_int64(1);
    state.locked_until = s.column_int64(2);
    return state;
}

}  // namespace

SqliteStore::SqliteStore(const std::string& path, const Cipher& cipher)
    : cipher_(cipher), path_(path) {
    // Create the file 0600 before SQLite sees it, so it never exists with umask's mode. SQLite
    // gives the -wal and -shm files it creates the database file's mode; tighten any left over.
    make_private(path_, true);
    make_private(path_ + "-wal", false);
    make_private(path_ + "-shm", false);

    // No mutex: the daemon uses its connection from one thread at a time.
    int rc = sqlite3_open_v2(path_.c_str(), &db_,
                             SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOFOLLOW | SQLITE_OPEN_NOMUTEX,
                             nullptr);
    try {
        if (rc != SQLITE_OK) sql::fail(db_, path_, "open");
        sqlite3_extended_result_codes(db_, 1);
        configure();
        run_migrations(db_, path_, cipher_);
        statements_ = std::make_unique<Statements>(db_, path_);
    } catch (...) {
        close();
        throw;
    }
}

SqliteStore::~SqliteStore() {
    close();
}

void SqliteStore::close() noexcept {
    statements_.reset();  // finalize before closing, or close_v2 keeps a zombie connection
    sqlite3_close_v2(db_);
    db_ = nullptr;
}

void SqliteStore::configure() {
    if (sqlite3_busy_timeout(db_, kBusyTimeoutMs) != SQLITE_OK)
        sql::fail(db_, path_, "set busy timeout");

    // Switching to WAL takes the file's exclusive lock, and a connection that opens the file
    // while another one switches it can be answered BUSY at once (SQLite skips the busy handler
    // where waiting could deadlock): it tries again, for as long as the busy timeout.
    sql::Statement journal(db_, path_, "PRAGMA journal_mode = WAL");
    bool answered = false;
    for (int waited = 0;; waited += kWalRetryMs) {
        try {
            answered = journal.step("set WAL mode");
            break;
        } catch (const StoreError&) {
            if ((sqlite3_errcode(db_) & 0xff) != SQLITE_BUSY || waited >= kBusyTimeoutMs) throw;
            journal.reset();
            std::this_thread::sleep_for(std::chrono::milliseconds(kWalRetryMs));
        }
    }
    if (!answered || journal.column_text(0) != "wal")
        fail_file(path_, "cannot switch to WAL mode (journal_mode is " +
                             std::string(journal.column_text(0)) + ")");
    journal.reset();

    // In WAL mode, NORMAL syncs at checkpoints, not at every commit. A committed transaction is
    // in the WAL file when COMMIT returns, so it survives the process being killed (kill -9); only
    // a power loss or kernel crash can roll back the last few commits. FULL would fsync on every
    // login for that, and steps lost that way belong to codes long expired after a reboot.
    sql::exec(db_, path_, "PRAGMA synchronous = NORMAL", "set synchronous");
    sql::exec(db_, path_, "PRAGMA foreign_keys = ON", "enable foreign keys");
    // Deleted rows are overwritten with zeros, so a removed enrollment's blobs do not linger in
    // free pages for whoever later gets the key.
    sql::exec(db_, path_, "PRAGMA secure_delete = ON", "enable secure delete");
}

int SqliteStore::schema_version() {
    return latest_schema_version();
}

void SqliteStore::put_enrollment(const Enrollment& e) {
    const auto sealed = sealing::seal(cipher_, e);
    sql::Run run(statements_->put_enrollment);
    run->bind_text(1, e.user);
    run->bind_blob(2, sealed.secret);
    if (sealed.phone.empty())
        run->bind_null(3);
    else
        run->bind_blob(3, sealed.phone);
    run->bind_text(4, delivery_name(e.delivery));
    run->bind_int64(5, e.enabled_at);
    // Autocommit: the statement is its own transaction, committed to the WAL when step returns.
    run->step("save enrollment for " + e.user);
}

void SqliteStore::clear_user(const std::string& user, bool with_enrollment) {
    if (with_enrollment) {
        sql::Run run(statements_->delete_user);
        run->bind_text(1, user);
        run->step("remove enrollment for " + user);
    }
    for (auto* statement : {&statements_->delete_steps, &statements_->delete_failures,
                            &statements_->delete_challenges_of, &statements_->delete_trusts,
                            &statements_->delete_recovery_codes}) {
        sql::Run run(*statement);
        run->bind_text(1, user);
        run->step("clear the state of " + user);
    }
}

void SqliteStore::enable(const Enrollment& e, std::uint64_t accepted_step) {
    sql::Transaction transaction(db_, path_);
    clear_user(e.user, false);
    put_enrollment(e);
    use_step(e.user, accepted_step);
    transaction.commit();
}

std::optional<Enrollment> SqliteStore::get_enrollment(const std::string& user) const {
    sql::Run run(statements_->get_enrollment);
    run->bind_text(1, user);
    if (!run->step("read enrollment for " + user)) return std::nullopt;
    std::optional<std::string_view> phone;
    if (!run->column_is_null(1)) phone = run->column_blob(1);
    return sealing::open(cipher_, user, run->column_blob(0), phone, run->column_text(2),
                         run->column_int64(3));
}

bool SqliteStore::remove_enrollment(const std::string& user) {
    sql::Transaction transaction(db_, path_);
    bool existed = false;
    {
        sql::Run run(statements_->delete_user);
        run->bind_text(1, user);
        run->step("remove enrollment for " + user);
        existed = run->changes() > 0;
    }
    clear_user(user, false);
    transaction.commit();
    return existed;
}

std::int64_t SqliteStore::count_enrollments() const {
    sql::Run run(statements_->count_enrollments);
    if (!run->step("count enrollments")) sql::fail(db_, path_, "count enrollments");
    return run->column_int64(0);
}

bool SqliteStore::use_step(const std::string& user, std::uint64_t step) {
    const std::int64_t value = sealing::step_value(step);
    sql::Run run(statements_->use_step);
    run->bind_text(1, user);
    run->bind_int64(2, value);
    // One statement is atomic: of two concurrent attempts at the same step, exactly one inserts.
    run->step("record used step for " + user);
    return run->changes() == 1;
}

bool SqliteStore::step_used(const std::string& user, std::uint64_t step) {
    const std::int64_t value = sealing::step_value(step);
    sql::Run run(statements_->step_used);
    run->bind_text(1, user);
    run->bind_int64(2, value);
    return run->step("look up used step for " + user);
}

void SqliteStore::prune_steps(std::uint64_t before) {
    sql::Run run(statements_->prune_steps);
    run->bind_int64(1, sealing::step_bound(before));
    run->step("prune used steps");
}

FailureState SqliteStore::get_failures(const std::string& user) {
    sql::Run run(statements_->get_failures);
    run->bind_text(1, user);
    if (!run->step("read failures of " + user)) return {};
    return read_failures(*run.operator->());
}

void SqliteStore::put_failures(const std::string& user, const FailureState& state) {
    // A clean slate is stored as no row, so the table holds only users with something to count.
    if (state.failures == 0 && state.first_failure == 0 && state.locked_until == 0) {
        sql::Run run(statements_->delete_failures);
        run->bind_text(1, user);
        run->step("clear failures of " + user);
        return;
    }
    sql::Run run(statements_->put_failures);
    run->bind_text(1, user);
    run->bind_int64(2, state.failures);
    run->bind_int64(3, state.first_failure);
    run->bind_int64(4, state.locked_until);
    run->step("save failures of " + user);
}

FailureState SqliteStore::add_failure(const std::string& user, std::int64_t now,
                                      const LockoutPolicy& policy) {
    // BEGIN IMMEDIATE holds the write lock from the read to the write: another daemon's wrong
    // code for the same user counts before or after this one, never over it.
    sql::Transaction transaction(db_, path_);
    const FailureState after = next_failure_state(get_failures(user), now, policy);
    put_failures(user, after);
    transaction.commit();
    return after;
}

void SqliteStore::put_challenge(const Challenge& c) {
    sql::Run run(statements_->put_challenge);
    run->bind_text(1, c.id);
    run->bind_text(2, c.user);
    run->bind_text(3, delivery_name(c.delivery));
    if (c.texted_step)
        run->bind_int64(4, sealing::step_value(*c.texted_step));
    else
        run->bind_null(4);
    run->bind_int64(5, c.expires_at);
    run->bind_int64(6, c.attempts_left);
    run->bind_int64(7, c.resends_left);
    run->bind_text(8, c.ip_address);
    run->bind_text(9, c.service);
    run->bind_int64(10, c.trust_seconds);
    run->bind_text(11, c.origin);
    run->step("save a challenge of " + c.user);
}

std::optional<Challenge> SqliteStore::get_challenge(const std::string& id) {
    sql::Run run(statements_->get_challenge);
    run->bind_text(1, id);
    if (!run->step("read a challenge")) return std::nullopt;
    return read_challenge(*run.operator->());
}

std::vector<Challenge> SqliteStore::challenges_of(const std::string& user) {
    sql::Run run(statements_->challenges_of);
    run->bind_text(1, user);
    std::vector<Challenge> found;
    while (run->step("read the challenges of " + user))
        found.push_back(read_challenge(*run.operator->()));
    return found;
}

bool SqliteStore::delete_challenge(const std::string& id) {
    sql::Run run(statements_->delete_challenge);
    run->bind_text(1, id);
    run->step("delete a challenge");
    return run->changes() > 0;
}

void SqliteStore::delete_challenges_of(const std::string& user) {
    sql::Run run(statements_->delete_challenges_of);
    run->bind_text(1, user);
    run->step("delete the challenges of " + user);
}

void SqliteStore::expire_challenges(std::int64_t now) {
    sql::Run run(statements_->expire_challenges);
    run->bind_int64(1, now);
    run->step("expire challenges");
}

std::optional<int> SqliteStore::spend(const char* what, const std::string& id) {
    sql::Statement& statement = std::string_view(what) == "attempt" ? statements_->spend_attempt
                                                                    : statements_->spend_resend;
    sql::Run run(statement);
    run->bind_text(1, id);
    if (!run->step(std::string("spend a challenge's ") + what)) return std::nullopt;
    return sealing::clamp_int(run->column_int64(0));
}

std::optional<int> SqliteStore::spend_attempt(const std::string& id) {
    return spend("attempt", id);
}

std::optional<int> SqliteStore::spend_resend(const std::string& id) {
    return spend("resend", id);
}

void SqliteStore::set_texted_step(const std::string& id, std::optional<std::uint64_t> step) {
    sql::Run run(statements_->set_texted_step);
    run->bind_text(1, id);
    if (step)
        run->bind_int64(2, sealing::step_value(*step));
    else
        run->bind_null(2);
    run->step("set a challenge's texted step");
}

std::int64_t SqliteStore::count_challenges() {
    sql::Run run(statements_->count_challenges);
    if (!run->step("count challenges")) sql::fail(db_, path_, "count challenges");
    return run->column_int64(0);
}

void SqliteStore::record_event(const std::string& key, std::int64_t at) {
    sql::Run run(statements_->record_event);
    run->bind_text(1, key);
    run->bind_int64(2, at);
    run->step("record an event");
}

WindowCount SqliteStore::count_events(const std::string& key, std::int64_t since) {
    sql::Run run(statements_->count_events);
    run->bind_text(1, key);
    run->bind_int64(2, since);
    if (!run->step("count events")) sql::fail(db_, path_, "count events");
    return {run->column_int64(0), run->column_int64(1)};
}

std::int64_t SqliteStore::take_event(const std::string& key, std::int64_t since, int limit,
                                     std::int64_t now) {
    sql::Transaction transaction(db_, path_);  // the count and the event, one write lock
    const std::int64_t wait = event_wait(count_events(key, since), since, limit);
    if (wait == 0) record_event(key, now);
    transaction.commit();
    return wait;
}

std::vector<std::pair<std::string, std::int64_t>> SqliteStore::busiest_events(
    const std::string& key_prefix, std::int64_t since, int limit) {
    sql::Run run(statements_->busiest_events);
    run->bind_text(1, key_prefix);
    run->bind_int64(2, since);
    run->bind_int64(3, limit);
    std::vector<std::pair<std::string, std::int64_t>> found;
    while (run->step("count events by key"))
        found.emplace_back(std::string(run->column_text(0)), run->column_int64(1));
    return found;
}

void SqliteStore::prune_events(std::int64_t before) {
    sql::Run run(statements_->prune_events);
    run->bind_int64(1, before);
    run->step("prune events");
}

void SqliteStore::put_trust(const Trust& t) {
    sql::Run run(statements_->put_trust);
    run->bind_text(1, t.user);
    run->bind_text(2, t.service);
    run->bind_text(3, t.origin);
    run->bind_text(4, t.host);
    run->bind_int64(5, t.created_at);
    run->bind_int64(6, t.expires_at);
    run->bind_blob(7, trust_mac(cipher_, t));
    run->step("save a trust of " + t.user);
}

std::optional<Trust> SqliteStore::get_trust(const std::string& user, const std::string& service,
                                            const std::string& origin, const std::string& host) {
    sql::Run run(statements_->get_trust);
    run->bind_text(1, user);
    run->bind_text(2, service);
    run->bind_text(3, origin);
    run->bind_text(4, host);
    if (!run->step("read a trust of " + user)) return std::nullopt;
    return checked_trust(cipher_, read_trust(*run.operator->()), run->column_blob(6));
}

std::vector<Trust> SqliteStore::trusts_of(const std::string& user) {
    sql::Run run(statements_->trusts_of);
    run->bind_text(1, user);
    std::vector<Trust> found;
    while (run->step("read the trusts of " + user))
        if (auto t = checked_trust(cipher_, read_trust(*run.operator->()), run->column_blob(6)))
            found.push_back(std::move(*t));
    return found;
}

std::int64_t SqliteStore::forget_trusts(const std::string& user) {
    sql::Run run(statements_->delete_trusts);
    run->bind_text(1, user);
    run->step("forget the trusts of " + user);
    return run->changes();
}

void SqliteStore::expire_trusts(std::int64_t now) {
    sql::Run run(statements_->expire_trusts);
    run->bind_int64(1, now);
    run->step("expire trusts");
}

std::vector<std::string> SqliteStore::enrolled_users() const {
    sql::Statement s(db_, path_, "SELECT name FROM users ORDER BY name");
    std::vector<std::string> names;
    while (s.step("list enrollments")) names.emplace_back(s.column_text(0));
    return names;
}

std::vector<std::pair<std::string, std::uint64_t>> SqliteStore::used_steps() const {
    sql::Statement s(db_, path_, "SELECT user, step FROM used_steps ORDER BY user, step");
    std::vector<std::pair<std::string, std::uint64_t>> steps;
    while (s.step("list used steps"))
        steps.emplace_back(std::string(s.column_text(0)),
                           static_cast<std::uint64_t>(s.column_int64(1)));
    return steps;
}

std::vector<Trust> SqliteStore::all_trusts() const {
    sql::Statement s(db_, path_,
                     "SELECT user, service, origin, host, created_at, expires_at, mac FROM trusts "
                     "ORDER BY user, service, origin, host");
    std::vector<Trust> found;
    while (s.step("list trusts"))
        if (auto t = checked_trust(cipher_, read_trust(s), s.column_blob(6)))
            found.push_back(std::move(*t));
    return found;
}

std::vector<std::pair<std::string, FailureState>> SqliteStore::all_failures() const {
    sql::Statement s(db_, path_,
                     "SELECT failures, first_failure, locked_until, user FROM failures "
                     "ORDER BY user");
    std::vector<std::pair<std::string, FailureState>> rows;
    while (s.step("list failures"))
        rows.emplace_back(std::string(s.column_text(3)), read_failures(s));
    return rows;
}

std::optional<std::string> SqliteStore::get_metadata(const std::string& name) const {
    sql::Run run(statements_->get_metadata);
    run->bind_text(1, name);
    if (!run->step("read metadata " + name)) return std::nullopt;
    return std::string(run->column_blob(0));
}

void SqliteStore::put_metadata(const std::string& name, const std::string& value) {
    sql::Run run(statements_->put_metadata);
    run->bind_text(1, name);
    run->bind_blob(2, value);
    run->step("save metadata " + name);
}

std::optional<bool> SqliteStore::sample_enrollment_opens() const {
    std::string user;
    {
        sql::Run run(statements_->sample_user);
        if (!run->step("pick an enrollment")) return std::nullopt;
        user = std::string(run->column_text(0));
    }
    try {
        get_enrollment(user);
        return true;
    } catch (const StoreError&) {
        return false;
    }
}

}  // namespace twofactor
