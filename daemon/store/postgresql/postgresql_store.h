// SPDX-License-Identifier: BSD-2-Clause
// The PostgreSQL backend: one database shared by every host of a fleet. Each rule that must hold
// across hosts is one statement or one transaction on the server.
#pragma once

#include <string>

#include "daemon/store/postgresql/postgresql.h"
#include "daemon/store/postgresql/postgresql_pool.h"
#include "daemon/store/store.h"

namespace twofactor {

class PostgresStore final : public Store {
public:
    // Connects and migrates the schema (once, under an advisory lock, however many daemons start
    // together). Throws StoreUnavailable when the server cannot be reached.
    PostgresStore(const StoreSettings& settings, const Cipher& cipher);

    void put_enrollment(const Enrollment& e) override;
    void enable(const Enrollment& e, std::uint64_t accepted_step) override;
    std::optional<Enrollment> get_enrollment(const std::string& user) const override;
    bool remove_enrollment(const std::string& user) override;
    std::int64_t count_enrollments() const override;

    bool use_step(const std::string& user, std::uint64_t step) override;
    bool step_used(const std::string& user, std::uint64_t step) override;
    void prune_steps(std::uint64_t before) override;

    FailureState get_failures(const std::string& user) override;
    LoginState login_state(const std::string& user) override;
    void put_failures(const std::string& user, const FailureState& state) override;
    FailureState add_failure(const std::string& user, std::int64_t now,
                             const LockoutPolicy& policy) override;

    void put_challenge(const Challenge& c) override;
    std::optional<Challenge> get_challenge(const std::string& id) override;
    std::vector<Challenge> challenges_of(const std::string& user) override;
    bool delete_challenge(const std::string& id) override;
    void delete_challenges_of(const std::string& user) override;
    void expire_challenges(std::int64_t now) override;
    std::optional<int> spend_attempt(const std::string& id) override;
    std::optional<int> spend_resend(const std::string& id) override;
    void set_texted_step(const std::string& id, std::optional<std::uint64_t> step) override;
    std::int64_t count_challenges() override;

    void put_trust(const Trust& t) override;
    std::optional<Trust> get_trust(const std::string& user, const std::string& service,
                                   const std::string& origin, const std::string& host) override;
    std::vector<Trust> trusts_of(const std::string& user) override;
    std::int64_t forget_trusts(const std::string& user) override;
    void expire_trusts(std::int64_t now) override;

    std::vector<std::string> enrolled_users() const override;
    std::vector<std::pair<std::string, std::uint64_t>> used_steps() const override;
    std::vector<std::pair<std::string, FailureState>> all_failures() const override;
    std::vector<std::pair<std::string, RecoveryCodeSet>> all_recovery_codes() const override;
    std::vector<Trust> all_trusts() const override;

    void replace_recovery_codes(const std::string& user, const RecoveryCodeSet& set) override;
    void put_stored_recovery_codes(const std::string& user, const RecoveryCodeSet& stored) override;
    std::optional<std::string> recovery_salt(const std::string& user) override;
    bool use_recovery_code(const std::string& user, const std::string& hash) override;
    int count_recovery_codes(const std::string& user) override;

    void record_event(const std::string& key, std::int64_t at) override;
    WindowCount count_events(const std::string& key, std::int64_t since) override;
    std::int64_t take_event(const std::string& key, std::int64_t since, int limit,
                            std::int64_t now) override;
    void prune_events(std::int64_t before) override;
    std::vector<std::pair<std::string, std::int64_t>> busiest_events(const std::string& key_prefix,
                                                                     std::int64_t since,
                                                                     int limit) override;

    std::optional<std::string> get_metadata(const std::string& name) const override;
    void put_metadata(const std::string& name, const std::string& value) override;
    std::optional<bool> sample_enrollment_opens() const override;

private:
    void clear_user(const std::string& user);
    // Takes the transaction-scoped advisory lock of one key (daemon/store/rules.h).
    static void lock_key(pg::Connection& db, std::string_view kind, std::string_view name);
    Enrollment open_enrollment(const std::string& user, const pg::Result& r) const;
    std::int64_t count(const char* sql, std::string_view operation) const;
    const Cipher& cipher_;
    // Reads are const to callers; the connections under them are not (they may reconnect).
    // Each call takes one for itself, so calls from several threads run at once.
    mutable pg::Pool pool_;
};

// Brings the database to the latest schema under pg_advisory_lock. Throws StoreError, and
// KeyError when a migration that rewrites rows under the cipher finds it is not the database's.
void migrate_postgresql(pg::Connection& db, const Cipher& cipher);
// Migration 5's rewrite: each recovery-code row's bare hash becomes its keyed form
// (recovery_code_mac.h), once the key is known to be the database's. Inside its transaction.
void key_stored_recovery_codes(pg::Connection& db, const Cipher& cipher);
int postgresql_latest_schema_version();

}  // namespace twofactor
