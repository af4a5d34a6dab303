// SPDX-License-Identifier: BSD-2-Clause
#include "daemon/store/postgresql/postgresql_store.h"

#include "daemon/keys/sealing.h"
#include "daemon/keys/trust_mac.h"
#include "daemon/store/rules.h"
#include "daemon/store/sqlite/sqlite_store.h"

namespace twofactor {

using pg::Param;

namespace {

constexpr const char* kChallengeColumns =
    "id, user_name, delivery, texted_step, expires_at, attempts_left, resends_left, ip_address, "
    "service, trust_seconds, origin";
constexpr const char* kTrustColumns =
    "user_name, service, origin, host, created_at, expires_at, mac";

Challenge read_challenge(const pg::Result& r, int row) {
    Challenge c;
    c.id = std::string(r.text(row, 0));
    c.user = std::string(r.text(row, 1));
    c.delivery = parse_delivery(r.text(row, 2)).value_or(Delivery::TextMessage);
    if (!r.is_null(row, 3)) c.texted_step = static_cast<std::uint64_t>(r.number(row, 3));
    c.expires_at = r.number(row, 4);
    c.attempts_left = sealing::clamp_int(r.number(row, 5));
    c.resends_left = sealing::clamp_int(r.number(row, 6));
    c.ip_address = std::string(r.text(row, 7));
    c.service = std::string(r.text(row, 8));
    c.trust_seconds = r.number(row, 9);
    c.origin = std::string(r.text(row, 10));
    return c;
}

Trust read_trust(const pg::Result& r, int row) {
    return Trust{std::string(r.text(row, 0)),
                 std::string(r.text(row, 1)),
                 std::string(r.text(row, 2)),
                 std::string(r.text(row, 3)),
                 r.number(row, 4),
                 r.number(row, 5)};
}

FailureState read_failures(const pg::Result& r) {
    FailureState state;
    state.failures = sealing::clamp_int(r.number(0, 0));
    state.first_failure = r.number(0, 1);
    state.locked_until = r.number(0, 2);
    return state;
}

}  // namespace

PostgresStore::PostgresStore(const StoreSettings& settings, const Cipher& cipher)
    : cipher_(cipher),
      pool_(settings.conninfo, settings.password, settings.connect_timeout, settings.connections) {
    auto db = pool_.lease();
    db->connect();
    migrate_postgresql(*db, cipher_);
}

void PostgresStore::put_enrollment(const Enrollment& e) {
    const auto sealed = sealing::seal(cipher_, e);
    pool_.lease()->exec(
        "INSERT INTO users (name, secret, phone, delivery, enabled_at) "
        "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (name) DO UPDATE SET "
        "secret = excluded.secret, phone = excluded.phone, "
        "delivery = excluded.delivery, enabled_at = excluded.enabled_at",
        {Param::text(e.user), Param::bytes(sealed.secret),
         sealed.phone.empty() ? Param::null() : Param::bytes(sealed.phone),
         Param::text(delivery_name(e.delivery)), Param::number(e.enabled_at)},
        "save enrollment for " + e.user);
}

void PostgresStore::clear_user(const std::string& user) {
    for (const char* sql :
         {"DELETE FROM used_steps WHERE user_name = $1",
          "DELETE FROM failures WHERE user_name = $1",
          "DELETE FROM challenges WHERE user_name = $1", "DELETE FROM trusts WHERE user_name = $1",
          "DELETE FROM recovery_codes WHERE user_name = $1"})
        pool_.lease()->exec(sql, {Param::text(user)}, "clear the state of " + user);
}

void PostgresStore::enable(const Enrollment& e, std::uint64_t accepted_step) {
    // The statements below, other store calls among them, run on this thread's one connection.
    auto db = pool_.lease();
    pg::Transaction transaction(*db);
    clear_user(e.user);
    put_enrollment(e);
    use_step(e.user, accepted_step);
    transaction.commit();
}

// The enrollment in the row's columns 0 to 3 (secret, phone, delivery, enabled_at).
Enrollment PostgresStore::open_enrollment(const std::string& user, const pg::Result& r) const {
    const std::string secret = r.bytes(0, 0);
    std::optional<std::string> phone;
    if (!r.is_null(0, 1)) phone = r.bytes(0, 1);
    std::optional<std::string_view> phone_view;
    if (phone) phone_view = *phone;
    return sealing::open(cipher_, user, secret, phone_view, r.text(0, 2), r.number(0, 3));
}

std::optional<Enrollment> PostgresStore::get_enrollment(const std::string& user) const {
    auto r =
        pool_.lease()->exec("SELECT secret, phone, delivery, enabled_at FROM users WHERE name = $1",
                            {Param::text(user)}, "read enrollment for " + user);
    if (r.rows() == 0) return std::nullopt;
    return open_enrollment(user, r);
}

LoginState PostgresStore::login_state(const std::string& user) {
    // One row whatever there is: NULL enrollment columns when not enrolled, NULL failure
    // columns when there are none.
    auto r = pool_.lease()->exec(
        "SELECT u.secret, u.phone, u.delivery, u.enabled_at, "
        "f.failures, f.first_failure, f.locked_until "
        "FROM (SELECT $1::text AS name) AS k "
        "LEFT JOIN users AS u ON u.name = k.name "
        "LEFT JOIN failures AS f ON f.user_name = k.name",
        {Param::text(user)}, "read enrollment and failures of " + user);
    LoginState state;
    if (!r.is_null(0, 0)) state.enrollment = open_enrollment(user, r);
    if (!r.is_null(0, 4)) {
        state.failures.failures = sealing::clamp_int(r.number(0, 4));
        state.failures.first_failure = r.number(0, 5);
        state.failures.locked_until = r.number(0, 6);
    }
    return state;
}

bool PostgresStore::remove_enrollment(const std::string& user) {
    auto db = pool_.lease();
    pg::Transaction transaction(*db);
    auto r = db->exec("DELETE FROM users WHERE name = $1", {Param::text(user)},
                      "remove enrollment for " + user);
    clear_user(user);
    transaction.commit();
    return r.affected() > 0;
}

std::int64_t PostgresStore::count(const char* sql, std::string_view operation) const {
    return pool_.lease()->exec(sql, {}, operation).number(0, 0);
}

std::int64_t PostgresStore::count_enrollments() const {
    return count("SELECT count(*) FROM users", "count enrollments");
}

bool PostgresStore::use_step(const std::string& user, std::uint64_t step) {
    // One statement against the primary key: of two hosts accepting the same step at the same
    // moment, exactly one inserts the row.
    auto r = pool_.lease()->exec(
        "INSERT INTO used_steps (user_name, step) VALUES ($1, $2) "
        "ON CONFLICT (user_name, step) DO NOTHING",
        {Param::text(user), Param::number(sealing::step_value(step))},
        "record used step for " + user);
    return r.affected() == 1;
}

bool PostgresStore::step_used(const std::string& user, std::uint64_t step) {
    auto r = pool_.lease()->exec("SELECT 1 FROM used_steps WHERE user_name = $1 AND step = $2",
                                 {Param::text(user), Param::number(sealing::step_value(step))},
                                 "look up used step for " + user);
    return r.rows() > 0;
}

void PostgresStore::prune_steps(std::uint64_t before) {
    pool_.lease()->exec("DELETE FROM used_steps WHERE step < $1",
                        {Param::number(sealing::step_bound(before))}, "prune used steps");
}

FailureState PostgresStore::get_failures(const std::string& user) {
    auto r = pool_.lease()->exec(
        "SELECT failures, first_failure, locked_until FROM failures WHERE user_name = $1",
        {Param::text(user)}, "read failures of " + user);
    if (r.rows() == 0) return {};
    return read_failures(r);
}

void PostgresStore::put_failures(const std::string& user, const FailureState& state) {
    if (state.failures == 0 && state.first_failure == 0 && state.locked_until == 0) {
        pool_.lease()->exec("DELETE FROM failures WHERE user_name = $1", {Param::text(user)},
                            "clear failures of " + user);
        return;
    }
    pool_.lease()->exec(
        "INSERT INTO failures (user_name, failures, first_failure, locked_until) "
        "VALUES ($1, $2, $3, $4) ON CONFLICT (user_name) DO UPDATE SET "
        "failures = excluded.failures, first_failure = excluded.first_failure, "
        "locked_until = excluded.locked_until",
        {Param::text(user), Param::number(state.failures), Param::number(state.first_failure),
         Param::number(state.locked_until)},
        "save failures of " + user);
}

void PostgresStore::lock_key(pg::Connection& db, std::string_view kind, std::string_view name) {
    // Held until the transaction ends: every daemon's read and write of this key waits for it.
    db.exec("SELECT pg_advisory_xact_lock($1::bigint)",
            {Param::number(advisory_lock_key(kind, name))}, "lock the rows of a key");
}

FailureState PostgresStore::add_failure(const std::string& user, std::int64_t now,
                                        const LockoutPolicy& policy) {
    // The statements below, other store calls among them, run on this thread's one connection,
    // under the user's lock: wrong codes typed on several hosts at once each count.
    auto db = pool_.lease();
    pg::Transaction transaction(*db);
    lock_key(*db, "failures", user);
    const FailureState after = next_failure_state(get_failures(user), now, policy);
    put_failures(user, after);
    transaction.commit();
    return after;
}

void PostgresStore::put_challenge(const Challenge& c) {
    pool_.lease()->exec(
        "INSERT INTO challenges (id, user_name, delivery, texted_step, expires_at, "
        "attempts_left, resends_left, ip_address, service, trust_seconds, origin) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        {Param::text(c.id), Param::text(c.user), Param::text(delivery_name(c.delivery)),
         c.texted_step ? Param::number(sealing::step_value(*c.texted_step)) : Param::null(),
         Param::number(c.expires_at), Param::number(c.attempts_left), Param::number(c.resends_left),
         Param::text(c.ip_address), Param::text(c.service), Param::number(c.trust_seconds),
         Param::text(c.origin)},
        "save a challenge of " + c.user);
}

std::optional<Challenge> PostgresStore::get_challenge(const std::string& id) {
    const std::string sql =
        std::string("SELECT ") + kChallengeColumns + " FROM challenges WHERE id = $1";
    auto r = pool_.lease()->exec(sql.c_str(), {Param::text(id)}, "read a challenge");
    if (r.rows() == 0) return std::nullopt;
    return read_challenge(r, 0);
}

std::vector<Challenge> PostgresStore::challenges_of(const std::string& user) {
    const std::string sql =
        std::string("SELECT ") + kChallengeColumns + " FROM challenges WHERE user_name = $1";
    auto r =
        pool_.lease()->exec(sql.c_str(), {Param::text(user)}, "read the challenges of " + user);
    std::vector<Challenge> found;
    for (int row = 0; row < r.rows(); ++row) found.push_back(read_challenge(r, row));
    return found;
}

bool PostgresStore::delete_challenge(const std::string& id) {
    return pool_.lease()
               ->exec("DELETE FROM challenges WHERE id = $1", {Param::text(id)},
                      "delete a challenge")
               .affected() > 0;
}

void PostgresStore::delete_challenges_of(const std::string& user) {
    pool_.lease()->exec("DELETE FROM challenges WHERE user_name = $1", {Param::text(user)},
                        "delete the challenges of " + user);
}

void PostgresStore::expire_challenges(std::int64_t now) {
    pool_.lease()->exec("DELETE FROM challenges WHERE expires_at <= $1", {Param::number(now)},
                        "expire challenges");
}

std::optional<int> PostgresStore::spend_attempt(const std::string& id) {
    auto r = pool_.lease()->exec(
        "UPDATE challenges SET attempts_left = attempts_left - 1 "
        "WHERE id = $1 AND attempts_left > 0 RETURNING attempts_left",
        {Param::text(id)}, "spend a challenge's attempt");
    if (r.rows() == 0) return std::nullopt;
    return sealing::clamp_int(r.number(0, 0));
}

std::optional<int> PostgresStore::spend_resend(const std::string& id) {
    auto r = pool_.lease()->exec(
        "UPDATE challenges SET resends_left = resends_left - 1 "
        "WHERE id = $1 AND resends_left > 0 RETURNING resends_left",
        {Param::text(id)}, "spend a challenge's resend");
    if (r.rows() == 0) return std::nullopt;
    return sealing::clamp_int(r.number(0, 0));
}

void PostgresStore::set_texted_step(const std::string& id, std::optional<std::uint64_t> step) {
    pool_.lease()->exec(
        "UPDATE challenges SET texted_step = $2 WHERE id = $1",
        {Param::text(id), step ? Param::number(sealing::step_value(*step)) : Param::null()},
        "set a challenge's texted step");
}

std::int64_t PostgresStore::count_challenges() {
    return count("SELECT count(*) FROM challenges", "count challenges");
}

void PostgresStore::record_event(const std::string& key, std::int64_t at) {
    pool_.lease()->exec("INSERT INTO events (key, at) VALUES ($1, $2)",
                        {Param::text(key), Param::number(at)}, "record an event");
}

WindowCount PostgresStore::count_events(const std::string& key, std::int64_t since) {
    auto r = pool_.lease()->exec(
        "SELECT count(*), coalesce(min(at), 0) FROM events WHERE key = $1 AND at > $2",
        {Param::text(key), Param::number(since)}, "count events");
    return {r.number(0, 0), r.number(0, 1)};
}

std::int64_t PostgresStore::take_event(const std::string& key, std::int64_t since, int limit,
                                       std::int64_t now) {
    auto db = pool_.lease();
    pg::Transaction transaction(*db);
    lock_key(*db, "events", key);
    const std::int64_t wait = event_wait(count_events(key, since), since, limit);
    if (wait == 0) record_event(key, now);
    transaction.commit();
    return wait;
}

std::vector<std::pair<std::string, std::int64_t>> PostgresStore::busiest_events(
    const std::string& key_prefix, std::int64_t since, int limit) {
    auto r = pool_.lease()->exec(
        "SELECT key, count(*) AS n FROM events WHERE left(key, length($1)) = $1 AND at > $2 "
        "GROUP BY key ORDER BY n DESC, key LIMIT $3",
        {Param::text(key_prefix), Param::number(since), Param::number(limit)},
        "count events by key");
    std::vector<std::pair<std::string, std::int64_t>> found;
    for (int row = 0; row < r.rows(); ++row)
        found.emplace_back(std::string(r.text(row, 0)), r.number(row, 1));
    return found;
}

void PostgresStore::prune_events(std::int64_t before) {
    pool_.lease()->exec("DELETE FROM events WHERE at <= $1", {Param::number(before)},
                        "prune events");
}

void PostgresStore::put_trust(const Trust& t) {
    pool_.lease()->exec(
        "INSERT INTO trusts (user_name, service, origin, host, created_at, expires_at, mac) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7) "
        "ON CONFLICT (user_name, service, origin, host) DO UPDATE "
        "SET created_at = excluded.created_at, expires_at = excluded.expires_at, "
        "mac = excluded.mac",
        {Param::text(t.user), Param::text(t.service), Param::text(t.origin), Param::text(t.host),
         Param::number(t.created_at), Param::number(t.expires_at),
         Param::bytes(trust_mac(cipher_, t))},
        "save a trust of " + t.user);
}

std::optional<Trust> PostgresStore::get_trust(const std::string& user, const std::string& service,
                                              const std::string& origin, const std::string& host) {
    const std::string sql =
        std::string("SELECT ") + kTrustColumns +
        " FROM trusts WHERE user_name = $1 AND service = $2 AND origin = $3 AND host = $4";
    auto r = pool_.lease()->exec(
        sql.c_str(),
        {Param::text(user), Param::text(service), Param::text(origin), Param::text(host)},
        "read a trust of " + user);
    if (r.rows() == 0) return std::nullopt;
    return checked_trust(cipher_, read_trust(r, 0), r.bytes(0, 6));
}

std::vector<Trust> PostgresStore::trusts_of(const std::string& user) {
    const std::string sql = std::string("SELECT ") + kTrustColumns +
                            " FROM trusts WHERE user_name = $1 ORDER BY service, origin, host";
    auto r = pool_.lease()->exec(sql.c_str(), {Param::text(user)}, "read the trusts of " + user);
    std::vector<Trust> found;
    for (int row = 0; row < r.rows(); ++row)
        if (auto t = checked_trust(cipher_, read_trust(r, row), r.bytes(row, 6)))
            found.push_back(std::move(*t));
    return found;
}

std::int64_t PostgresStore::forget_trusts(const std::string& user) {
    return pool_.lease()
        ->exec("DELETE FROM trusts WHERE user_name = $1", {Param::text(user)},
               "forget the trusts of " + user)
        .affected();
}

void PostgresStore::expire_trusts(std::int64_t now) {
    pool_.lease()->exec("DELETE FROM trusts WHERE expires_at <= $1", {Param::number(now)},
                        "expire trusts");
}

std::vector<std::string> PostgresStore::enrolled_users() const {
    auto r = pool_.lease()->exec("SELECT name FROM users ORDER BY name", {}, "list enrollments");
    std::vector<std::string> names;
    for (int row = 0; row < r.rows(); ++row) names.emplace_back(r.text(row, 0));
    return names;
}

std::vector<std::pair<std::string, std::uint64_t>> PostgresStore::used_steps() const {
    auto r = pool_.lease()->exec("SELECT user_name, step FROM used_steps ORDER BY user_name, step",
                                 {}, "list used steps");
    std::vector<std::pair<std::string, std::uint64_t>> steps;
    for (int row = 0; row < r.rows(); ++row)
        steps.emplace_back(std::string(r.text(row, 0)),
                           static_cast<std::uint64_t>(r.number(row, 1)));
    return steps;
}

std::vector<Trust> PostgresStore::all_trusts() const {
    const std::string sql = std::string("SELECT ") + kTrustColumns +
                            " FROM trusts ORDER BY user_name, service, origin, host";
    auto r = pool_.lease()->exec(sql.c_str(), {}, "list trusts");
    std::vector<Trust> found;
    for (int row = 0; row < r.rows(); ++row)
        if (auto t = checked_trust(cipher_, read_trust(r, row), r.bytes(row, 6)))
            found.push_back(std::move(*t));
    return found;
}

std::vector<std::pair<std::string, FailureState>> PostgresStore::all_failures() const {
    auto r = pool_.lease()->exec(
        "SELECT user_name, failures, first_failure, locked_until FROM failures ORDER BY user_name",
        {}, "list failures");
    std::vector<std::pair<std::string, FailureState>> rows;
    for (int row = 0; row < r.rows(); ++row) {
        FailureState state;
        state.failures = sealing::clamp_int(r.number(row, 1));
        state.first_failure = r.number(row, 2);
        state.locked_until = r.number(row, 3);
        rows.emplace_back(std::string(r.text(row, 0)), state);
    }
    return rows;
}

std::optional<std::string> PostgresStore::get_metadata(const std::string& name) const {
    auto r = pool_.lease()->exec("SELECT value FROM metadata WHERE name = $1", {Param::text(name)},
                                 "read metadata " + name);
    if (r.rows() == 0) return std::nullopt;
    return r.bytes(0, 0);
}

void PostgresStore::put_metadata(const std::string& name, const std::string& value) {
    pool_.lease()->exec(
        "INSERT INTO metadata (name, value) VALUES ($1, $2) "
        "ON CONFLICT (name) DO UPDATE SET value = excluded.value",
        {Param::text(name), Param::bytes(value)}, "save metadata " + name);
}

std::optional<bool> PostgresStore::sample_enrollment_opens() const {
    auto r = pool_.lease()->exec("SELECT name FROM users ORDER BY name LIMIT 1", {},
                                 "pick an enrollment");
    if (r.rows() == 0) return std::nullopt;
    const std::string user(r.text(0, 0));
    try {
        get_enrollment(user);
        return true;
    } catch (const StoreUnavailable&) {
        throw;
    } catch (const StoreError&) {
        return false;
    }
}

std::unique_ptr<Store> open_store(const StoreSettings& settings, const Cipher& cipher) {
    if (settings.backend == StoreSettings::Backend::Postgresql)
        return std::make_unique<PostgresStore>(settings, cipher);
    return std::make_unique<SqliteStore>(settings.database, cipher);
}

}  // namespace twofactor
