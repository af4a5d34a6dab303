// SPDX-License-Identifier: BSD-2-Clause
// The daemon's store: enrollments (secret and phone encrypted), used steps, failure counts and
// lockouts, open login challenges and per-user text counts. One interface, two backends: SQLite
// (one host, the default) and PostgreSQL (a fleet of hosts sharing one database). Every rule that
// must hold across hosts (a step used once, one lockout count, one text limit) is decided by the
// database in one statement or one transaction, never by a read in the daemon and a write after.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/secure.h"
#include "daemon/keys/cipher.h"
#include "daemon/keys/key_check.h"

namespace twofactor {

class StoreError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// The database cannot be reached now (PostgreSQL down, the network cut). The call is answered
// Unavailable; the next call tries to reconnect.
class StoreUnavailable : public StoreError {
public:
    using StoreError::StoreError;
};

enum class Delivery { TextMessage, None };
const char* delivery_name(Delivery d);                          // "TextMessage" / "None"
std::optional<Delivery> parse_delivery(std::string_view name);  // exact names only

struct Enrollment {
    std::string user;
    SecureString secret;
    std::string mobile_phone;  // E.164, empty for Delivery::None
    Delivery delivery = Delivery::TextMessage;
    std::int64_t enabled_at = 0;  // Unix seconds
};

struct FailureState {
    int failures = 0;                // consecutive failures
    std::int64_t first_failure = 0;  // Unix seconds of the first of them, 0 if none
    std::int64_t locked_until = 0;   // Unix seconds, 0 if not locked
};

struct LockoutPolicy {
    int failures = 10;            // this many in the window lock the account
    std::int64_t window = 900;    // seconds
    std::int64_t duration = 900;  // seconds
};

// What a login asked to be trusted for (the module's trust=): a later login of the same user from
// the same service and origin skips the code for `seconds`. Empty (seconds 0) when not asked.
struct TrustRequest {
    std::int64_t seconds = 0;
    std::string service;  // PAM_SERVICE
    std::string origin;   // PAM_RHOST, or "tty:" and PAM_TTY when there is no RHOST
    std::string host;     // the host it is bound to (Service::trust_host)
};

// A trust made by a second factor that succeeded, on the host that made it
// (daemon/service/host_id.h): it is honoured on that host only.
struct Trust {
    std::string user;
    std::string service;
    std::string origin;
    std::string host;
    std::int64_t created_at = 0;  // Unix seconds
    std::int64_t expires_at = 0;  // Unix seconds
};

// A login challenge (the model's twoFactorId).
struct Challenge {
    std::string id;
    std::string user;
    Delivery delivery = Delivery::TextMessage;
    std::optional<std::uint64_t> texted_step;  // the step whose code was texted, if any
    std::int64_t expires_at = 0;               // Unix seconds
    int attempts_left = 0;
    int resends_left = 0;
    std::string ip_address;
    std::string service;  // the PAM service that began it, for the audit trail
    // What it asked to be trusted for (the module's trust=): seconds, 0 for nothing, and the
    // origin (PAM_RHOST, or "tty:" and PAM_TTY); the service is `service`.
    std::int64_t trust_seconds = 0;
    std::string origin;
};

// What a login reads first: the user's enrollment, if any, and failures.
struct LoginState {
    std::optional<Enrollment> enrollment;
    FailureState failures;
};

// One user's recovery codes as stored: one salt, the hash of each code left.
struct RecoveryCodeSet {
    std::string salt;
    std::vector<std::string> hashes;
};

// Events counted in a sliding window: how many, and when the oldest of them was.
struct WindowCount {
    std::int64_t count = 0;
    std::int64_t oldest = 0;  // Unix seconds, 0 when count is 0
};

class Store : public KeyCheckStore {
public:
    virtual ~Store() = default;
    Store() = default;
    Store(const Store&) = delete;
    Store& operator=(const Store&) = delete;

    // Insert or replace; committed (durable) when it returns.
    virtual void put_enrollment(const Enrollment& e) = 0;
    // Enabling in one transaction: the enrollment replaces any earlier one, its steps, failures,
    // open challenges and trusts are cleared, and the step whose code enabled it is recorded as
    // used.
    virtual void enable(const Enrollment& e, std::uint64_t accepted_step) = 0;
    virtual std::optional<Enrollment> get_enrollment(const std::string& user) const = 0;
    // Also clears steps, failures, open challenges and trusts.
    virtual bool remove_enrollment(const std::string& user) = 0;
    virtual std::int64_t count_enrollments() const = 0;

    // Records that a step was accepted for the user. Returns false, changing nothing, if that
    // step was already recorded. Atomic across every daemon sharing the database: one INSERT
    // ... ON CONFLICT DO NOTHING against the primary key.
    virtual bool use_step(const std::string& user, std::uint64_t step) = 0;
    virtual bool step_used(const std::string& user, std::uint64_t step) = 0;
    // Forgets used steps older than `before` (they can no longer be accepted anyway).
    virtual void prune_steps(std::uint64_t before) = 0;

    virtual FailureState get_failures(const std::string& user) = 0;
    // get_enrollment and get_failures together, in one query where the backend has round trips
    // to save.
    virtual LoginState login_state(const std::string& user) {
        auto enrollment = get_enrollment(user);
        return {std::move(enrollment), get_failures(user)};
    }
    virtual void put_failures(const std::string& user, const FailureState& state) = 0;
    // Counts one wrong code in one transaction (next_failure_state of daemon/store/rules.h: a
    // new window when the last one is over; a lock when the count reaches the policy's) and
    // returns the state after it.
    virtual FailureState add_failure(const std::string& user, std::int64_t now,
                                     const LockoutPolicy& policy) = 0;

    // Open challenges. `c.id` must be new.
    virtual void put_challenge(const Challenge& c) = 0;
    // The challenge, expired or not (the caller decides).
    virtual std::optional<Challenge> get_challenge(const std::string& id) = 0;
    virtual std::vector<Challenge> challenges_of(const std::string& user) = 0;
    virtual bool delete_challenge(const std::string& id) = 0;
    virtual void delete_challenges_of(const std::string& user) = 0;
    virtual void expire_challenges(std::int64_t now) = 0;
    // Takes one attempt (one resend) from the challenge in one statement; the count left after
    // it, or nullopt when the challenge is gone or had none left.
    virtual std::optional<int> spend_attempt(const std::string& id) = 0;
    virtual std::optional<int> spend_resend(const std::string& id) = 0;
    // The step whose code was texted for the challenge: none while no text went out (the
    // login goes on with app and recovery codes), set when one does.
    virtual void set_texted_step(const std::string& id, std::optional<std::uint64_t> step) = 0;
    virtual std::int64_t count_challenges() = 0;

    // Trusts, one per user, service, origin and host: putting one again replaces it. Each row
    // carries a MAC under the key (trust_mac.h); every read below skips a row whose MAC does not
    // match, one written with the database and not the key, and tells the observer.
    virtual void put_trust(const Trust& t) = 0;
    // The trust, expired or not (the caller decides against the current limits).
    virtual std::optional<Trust> get_trust(const std::string& user, const std::string& service,
                                           const std::string& origin, const std::string& host) = 0;
    virtual std::vector<Trust> trusts_of(const std::string& user) = 0;
    // Ends every trust of the user; returns how many there were.
    virtual std::int64_t forget_trusts(const std::string& user) = 0;
    virtual void expire_trusts(std::int64_t now) = 0;

    // Recovery codes, given as salted hashes (common/recovery_codes.h) and stored bound to the
    // key (recovery_code_mac.h): a row written without the key matches no hash. Replacing writes
    // the user's whole new set in one transaction; removing an enrollment or enabling a new one
    // clears the set.
    virtual void replace_recovery_codes(const std::string& user, const RecoveryCodeSet& set) = 0;
    // Writes a set as all_recovery_codes() read it from a store under the same key (already
    // bound to it), replacing the user's.
    virtual void put_stored_recovery_codes(const std::string& user,
                                           const RecoveryCodeSet& stored) = 0;
    // The salt of the user's set; nullopt when the user has no code left.
    virtual std::optional<std::string> recovery_salt(const std::string& user) = 0;
    // Deletes the code with this hash, bound to the key, in one statement: true for the one
    // caller, on whichever host, whose statement deleted it.
    virtual bool use_recovery_code(const std::string& user, const std::string& hash) = 0;
    virtual int count_recovery_codes(const std::string& user) = 0;

    // Everything, for copying one store into another (--import-sqlite); recovery codes as
    // stored, bound to the key.
    virtual std::vector<std::string> enrolled_users() const = 0;
    virtual std::vector<std::pair<std::string, std::uint64_t>> used_steps() const = 0;
    virtual std::vector<std::pair<std::string, FailureState>> all_failures() const = 0;
    virtual std::vector<std::pair<std::string, RecoveryCodeSet>> all_recovery_codes() const = 0;
    virtual std::vector<Trust> all_trusts() const = 0;

    // Told about each trust row a read skipped because its MAC did not match, on the thread
    // that read it. Set it before the store is shared between threads.
    void observe_forged_trusts(std::function<void(const Trust&)> observer) {
        forged_trust_observer_ = std::move(observer);
    }

    // Per-key events (texts sent to a user) for limits that hold across hosts.
    virtual void record_event(const std::string& key, std::int64_t at) = 0;
    virtual WindowCount count_events(const std::string& key, std::int64_t since) = 0;
    // Takes one event for `key` at `now` if fewer than `limit` were taken since `since`: 0 when
    // it was taken, else the seconds until one would be (and nothing is recorded). One
    // transaction: two daemons racing for the last one cannot both take it.
    virtual std::int64_t take_event(const std::string& key, std::int64_t since, int limit,
                                    std::int64_t now) = 0;
    virtual void prune_events(std::int64_t before) = 0;
    // The `limit` keys starting with `key_prefix` with the most events since `since`, most
    // first (ties by key), and their counts: what `twofactorctl status` shows of the budgets.
    virtual std::vector<std::pair<std::string, std::int64_t>> busiest_events(
        const std::string& key_prefix, std::int64_t since, int limit) = 0;

protected:
    // A trust row as read, with its stored MAC: the trust when the MAC matches; otherwise
    // nullopt, and the observer is told.
    std::optional<Trust> checked_trust(const Cipher& cipher, Trust t, std::string_view mac) const;

private:
    std::function<void(const Trust&)> forged_trust_observer_;
};

// Which backend and where; filled from the configuration.
struct StoreSettings {
    // Remote: an agent, which opens no store and forwards every call to a server.
    enum class Backend { Sqlite, Postgresql, Remote };
    Backend backend = Backend::Sqlite;
    std::string database;     // SQLite file
    std::string conninfo;     // libpq connection string or URI
    SecureString password;    // PostgreSQL password, empty when conninfo or ~/.pgpass carry it
    int connect_timeout = 5;  // seconds, for PostgreSQL connections
    int timeout = 10;         // seconds a call may wait for the store before it is Unavailable
    int connections = 4;      // PostgreSQL connections, one per worker
};

// Opens the configured backend and migrates its schema forward. Throws StoreError.
std::unique_ptr<Store> open_store(const StoreSettings& settings, const Cipher& cipher);

}  // namespace twofactor
