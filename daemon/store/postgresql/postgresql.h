// SPDX-License-Identifier: BSD-2-Clause
// A thin layer over libpq: one connection that reconnects by itself, statements with bound
// parameters (each prepared once per connection), results read as text, and errors turned into
// StoreError (a SQL failure) or StoreUnavailable (the server cannot be reached).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/secure.h"

typedef struct pg_conn PGconn;
typedef struct pg_result PGresult;

namespace twofactor::pg {

// One bound parameter: text (numbers too) or bytes (bytea, sent binary), or NULL.
struct Param {
    static Param text(std::string_view value) { return {std::string(value), false, false}; }
    static Param number(std::int64_t value) { return {std::to_string(value), false, false}; }
    static Param bytes(std::string_view value) { return {std::string(value), true, false}; }
    static Param null() { return {{}, false, true}; }
    std::string value;
    bool binary = false;
    bool is_null = false;
};

// Why a connection string cannot be used (libpq cannot parse it, or it holds a password, which
// belongs in password_file or the credential), or nullopt when it can.
std::optional<std::string> check_conninfo(const std::string& conninfo);

// Why the connection `conninfo` (with libpq's PGHOST, PGHOSTADDR, PGSSLMODE and PGSERVICE from
// the environment) describes could be read or changed on the way: it may go to a host other
// than this machine (an address outside loopback, a name other than localhost, or a service
// file's host, which cannot be checked here) without sslmode verify-full or verify-ca. nullopt
// when every host is this machine (loopback, a Unix socket directory) or the server's
// certificate is checked. The conninfo must parse (check_conninfo).
std::optional<std::string> check_transport(const std::string& conninfo);

class Result {
public:
    explicit Result(PGresult* result) : result_(result) {}
    ~Result();
    Result(Result&& other) noexcept : result_(other.result_) { other.result_ = nullptr; }
    Result(const Result&) = delete;
    Result& operator=(const Result&) = delete;

    int rows() const;
    std::int64_t affected() const;  // rows an INSERT, UPDATE or DELETE changed
    bool is_null(int row, int column) const;
    std::string_view text(int row, int column) const;
    std::int64_t number(int row, int column) const;
    std::string bytes(int row, int column) const;  // a bytea column

private:
    PGresult* result_;
};

class Connection {
public:
    // Does not connect yet: the first statement does, and every statement after a lost
    // connection tries again, so a daemon started while the server is down comes up with it.
    Connection(std::string conninfo, SecureString password, int connect_timeout);
    ~Connection();
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;

    // Connects now; throws StoreUnavailable when it cannot.
    void connect();

    // Runs one statement. Outside a transaction a statement that finds the connection broken
    // is sent once more on a new one (a server restarted since the last call).
    Result exec(const char* sql, const std::vector<Param>& params, std::string_view operation);
    // Statements without parameters, e.g. a migration; several may be separated by semicolons.
    void exec_script(const char* sql, std::string_view operation);

    void begin();
    void commit();
    void rollback() noexcept;
    bool in_transaction() const { return in_transaction_; }

private:
    PGresult* send(const char* sql, const std::vector<Param>& params);
    [[noreturn]] void fail(PGresult* result, std::string_view operation);
    void drop() noexcept;

    std::string conninfo_;
    SecureString password_;
    int connect_timeout_;
    PGconn* conn_ = nullptr;
    bool in_transaction_ = false;
    // The statements prepared on conn_ (SQL text to statement name); a new connection starts
    // with none.
    std::unordered_map<std::string, std::string> prepared_;
};

// BEGIN ... COMMIT, rolled back unless commit() was reached.
class Transaction {
public:
    explicit Transaction(Connection& connection) : connection_(connection) { connection_.begin(); }
    ~Transaction() {
        if (open_) connection_.rollback();
    }
    Transaction(const Transaction&) = delete;
    Transaction& operator=(const Transaction&) = delete;
    void commit() {
        connection_.commit();
        open_ = false;
    }

private:
    Connection& connection_;
    bool open_ = true;
};

}  // namespace twofactor::pg
