// The daemon's SQLite database: enrollments (secret and phone encrypted), used steps, failure
// counts and lockouts. WAL mode, schema versioned by PRAGMA user_version.
// Each sealed value's associated data is its column and the user name, so a blob moved to another
// user, or from the phone column to the secret column, does not decrypt.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include "common/secure.h"
#include "daemon/store/cipher.h"
#include "daemon/store/key_check.h"

struct sqlite3;

namespace twofactor {

class StoreError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
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

class Store : public KeyCheckStore {
public:
    // Opens or creates the database (file mode 0600), sets WAL, runs forward migrations.
    // Throws StoreError naming the path and SQLite's message.
    Store(const std::string& path, const Cipher& cipher);
    ~Store() override;
    Store(const Store&) = delete;
    Store& operator=(const Store&) = delete;

    static int schema_version();  // the version this build migrates to

    // Insert or replace; committed (durable) when it returns.
    void put_enrollment(const Enrollment& e);
    // Enabling in one transaction: the enrollment replaces any earlier one, its steps and failures
    // are cleared, and the step whose code enabled it is recorded as used. A crash leaves either
    // everything or nothing.
    void enable(const Enrollment& e, std::uint64_t accepted_step);
    std::optional<Enrollment> get_enrollment(const std::string& user) const;
    bool remove_enrollment(const std::string& user);  // also clears steps and failures
    std::int64_t count_enrollments() const;

    // Records that a step was accepted for the user. Returns false, changing nothing, if that
    // step was already recorded. Atomic: one INSERT ... ON CONFLICT DO NOTHING statement.
    bool use_step(const std::string& user, std::uint64_t step);
    bool step_used(const std::string& user, std::uint64_t step) const;
    // Forgets used steps older than `before` (they can no longer be accepted anyway).
    void prune_steps(std::uint64_t before);

    FailureState get_failures(const std::string& user) const;
    void put_failures(const std::string& user, const FailureState& state);

    // Named values about the database itself (the key check value).
    std::optional<std::string> get_metadata(const std::string& name) const override;
    void put_metadata(const std::string& name, const std::string& value) override;
    std::optional<bool> sample_enrollment_opens() const override;

private:
    struct Statements;  // prepared once, reused on every call
    void configure();
    void migrate();
    void close() noexcept;
    sqlite3* db_ = nullptr;
    const Cipher& cipher_;
    std::string path_;
    std::unique_ptr<Statements> statements_;
};

}  // namespace twofactor
