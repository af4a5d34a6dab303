// The daemon's SQLite database. Secrets and phone numbers reach SQLite only as AES-256-GCM blobs;
// everything else (names, steps, counters) is stored as is.
#include "daemon/store/store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <limits>

#include "daemon/store/migrations.h"
#include "daemon/store/sqlite.h"

namespace twofactor {
namespace {

constexpr int kBusyTimeoutMs = 5000;

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

// The user name is the associated data, so a blob copied onto another user's row does not
// decrypt. The column name is bound in too: otherwise a row's sealed phone number, which an
// attacker may know in clear, could be swapped into its secret column and would decrypt there.
std::string associated_data(std::string_view column, const std::string& user) {
    std::string aad = "twofactord users.";
    aad += column;
    aad += '\0';  // the prefix is fixed, so this separator keeps every (column, user) distinct
    aad += user;
    return aad;
}

[[noreturn]] void fail_decrypt(const std::string& user) {
    throw StoreError("enrollment for " + user + " does not decrypt: wrong key or damaged database");
}

// Steps are Unix time / 30, far below 2^63; a larger value is a caller's bug, not a step.
std::int64_t step_value(std::uint64_t step) {
    if (step > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
        throw StoreError("time step " + std::to_string(step) + " is out of range");
    return static_cast<std::int64_t>(step);
}

}  // namespace

const char* delivery_name(Delivery d) {
    return d == Delivery::TextMessage ? "TextMessage" : "None";
}

std::optional<Delivery> parse_delivery(std::string_view name) {
    if (name == "TextMessage") return Delivery::TextMessage;
    if (name == "None") return Delivery::None;
    return std::nullopt;
}

struct Store::Statements {
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
          get_metadata(db, path, "SELECT value FROM metadata WHERE name = ?1"),
          put_metadata(db, path,
                       "INSERT INTO metadata (name, value) VALUES (?1, ?2) "
                       "ON CONFLICT (name) DO UPDATE SET value = excluded.value"),
          sample_user(db, path, "SELECT name FROM users ORDER BY name LIMIT 1") {}

    sql::Statement put_enrollment, get_enrollment, count_enrollments;
    sql::Statement delete_user, delete_steps, delete_failures;
    sql::Statement use_step, step_used, prune_steps;
    sql::Statement get_failures, put_failures;
    sql::Statement get_metadata, put_metadata, sample_user;
};

Store::Store(const std::string& path, const Cipher& cipher) : cipher_(cipher), path_(path) {
    // Create the file 0600 before SQLite sees it, so it never exists with umask's mode. SQLite
    // gives the -wal and -shm files it creates the database file's mode; tighten any left over.
    make_private(path_, true);
    make_private(path_ + "-wal", false);
    make_private(path_ + "-shm", false);

    // No mutex: the daemon uses its connection from one thread only.
    int rc = sqlite3_open_v2(path_.c_str(), &db_,
                             SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOFOLLOW | SQLITE_OPEN_NOMUTEX,
                             nullptr);
    try {
        if (rc != SQLITE_OK) sql::fail(db_, path_, "open");
        sqlite3_extended_result_codes(db_, 1);
        configure();
        migrate();
        statements_ = std::make_unique<Statements>(db_, path_);
    } catch (...) {
        close();
        throw;
    }
}

Store::~Store() {
    close();
}

void Store::close() noexcept {
    statements_.reset();  // finalize before closing, or close_v2 keeps a zombie connection
    sqlite3_close_v2(db_);
    db_ = nullptr;
}

void Store::configure() {
    if (sqlite3_busy_timeout(db_, kBusyTimeoutMs) != SQLITE_OK)
        sql::fail(db_, path_, "set busy timeout");

    sql::Statement journal(db_, path_, "PRAGMA journal_mode = WAL");
    if (!journal.step("set WAL mode") || journal.column_text(0) != "wal")
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

void Store::migrate() {
    run_migrations(db_, path_);
}

int Store::schema_version() {
    return latest_schema_version();
}

void Store::put_enrollment(const Enrollment& e) {
    if (e.delivery == Delivery::TextMessage && e.mobile_phone.empty())
        throw StoreError("enrollment for " + e.user +
                         ": delivery TextMessage needs a phone number");
    const std::string secret = cipher_.seal(e.secret.view(), associated_data("secret", e.user));
    const std::string phone = e.mobile_phone.empty()
                                  ? std::string()
                                  : cipher_.seal(e.mobile_phone, associated_data("phone", e.user));

    sql::Run run(statements_->put_enrollment);
    run->bind_text(1, e.user);
    run->bind_blob(2, secret);
    if (phone.empty())
        run->bind_null(3);
    else
        run->bind_blob(3, phone);
    run->bind_text(4, delivery_name(e.delivery));
    run->bind_int64(5, e.enabled_at);
    // Autocommit: the statement is its own transaction, committed to the WAL when step returns.
    run->step("save enrollment for " + e.user);
}

void Store::enable(const Enrollment& e, std::uint64_t accepted_step) {
    sql::Transaction transaction(db_, path_);
    {
        sql::Run run(statements_->delete_steps);
        run->bind_text(1, e.user);
        run->step("clear used steps of " + e.user);
    }
    {
        sql::Run run(statements_->delete_failures);
        run->bind_text(1, e.user);
        run->step("clear failures of " + e.user);
    }
    put_enrollment(e);
    use_step(e.user, accepted_step);
    transaction.commit();
}

std::optional<Enrollment> Store::get_enrollment(const std::string& user) const {
    sql::Run run(statements_->get_enrollment);
    run->bind_text(1, user);
    if (!run->step("read enrollment for " + user)) return std::nullopt;

    Enrollment e;
    e.user = user;
    auto secret = cipher_.open(run->column_blob(0), associated_data("secret", user));
    if (!secret) fail_decrypt(user);
    e.secret = std::move(*secret);
    if (!run->column_is_null(1)) {
        auto phone = cipher_.open(run->column_blob(1), associated_data("phone", user));
        if (!phone) fail_decrypt(user);
        e.mobile_phone = std::string(phone->view());
    }
    auto delivery = parse_delivery(run->column_text(2));
    if (!delivery)
        throw StoreError("enrollment for " + user + " has unknown delivery \"" +
                         std::string(run->column_text(2)) + "\"");
    e.delivery = *delivery;
    e.enabled_at = run->column_int64(3);
    return e;
}

bool Store::remove_enrollment(const std::string& user) {
    sql::Transaction transaction(db_, path_);
    bool existed = false;
    {
        sql::Run run(statements_->delete_user);
        run->bind_text(1, user);
        run->step("remove enrollment for " + user);
        existed = run->changes() > 0;
    }
    {
        sql::Run run(statements_->delete_steps);
        run->bind_text(1, user);
        run->step("remove used steps of " + user);
    }
    {
        sql::Run run(statements_->delete_failures);
        run->bind_text(1, user);
        run->step("remove failures of " + user);
    }
    transaction.commit();
    return existed;
}

std::int64_t Store::count_enrollments() const {
    sql::Run run(statements_->count_enrollments);
    if (!run->step("count enrollments")) sql::fail(db_, path_, "count enrollments");
    return run->column_int64(0);
}

bool Store::use_step(const std::string& user, std::uint64_t step) {
    const std::int64_t value = step_value(step);
    sql::Run run(statements_->use_step);
    run->bind_text(1, user);
    run->bind_int64(2, value);
    // One statement is atomic: of two concurrent attempts at the same step, exactly one inserts.
    run->step("record used step for " + user);
    return run->changes() == 1;
}

bool Store::step_used(const std::string& user, std::uint64_t step) const {
    const std::int64_t value = step_value(step);
    sql::Run run(statements_->step_used);
    run->bind_text(1, user);
    run->bind_int64(2, value);
    return run->step("look up used step for " + user);
}

void Store::prune_steps(std::uint64_t before) {
    // Every storable step is below the largest int64, so clamping forgets exactly the same rows.
    constexpr auto kMax = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
    sql::Run run(statements_->prune_steps);
    run->bind_int64(1, static_cast<std::int64_t>(std::min(before, kMax)));
    run->step("prune used steps");
}

FailureState Store::get_failures(const std::string& user) const {
    sql::Run run(statements_->get_failures);
    run->bind_text(1, user);
    FailureState state;
    if (!run->step("read failures of " + user)) return state;
    const std::int64_t failures = run->column_int64(0);
    state.failures =
        static_cast<int>(std::clamp<std::int64_t>(failures, 0, std::numeric_limits<int>::max()));
    state.first_failure = run->column_int64(1);
    state.locked_until = run->column_int64(2);
    return state;
}

void Store::put_failures(const std::string& user, const FailureState& state) {
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

std::optional<std::string> Store::get_metadata(const std::string& name) const {
    sql::Run run(statements_->get_metadata);
    run->bind_text(1, name);
    if (!run->step("read metadata " + name)) return std::nullopt;
    return std::string(run->column_blob(0));
}

void Store::put_metadata(const std::string& name, const std::string& value) {
    sql::Run run(statements_->put_metadata);
    run->bind_text(1, name);
    run->bind_blob(2, value);
    run->step("save metadata " + name);
}

std::optional<bool> Store::sample_enrollment_opens() const {
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
