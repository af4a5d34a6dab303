// SPDX-License-Identifier: BSD-2-Clause
// A thin layer over the SQLite C API: statements and transactions that clean up after themselves,
// and one error path that turns every failure into a StoreError naming the database, the
// operation and SQLite's own message.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <string>
#include <string_view>

namespace twofactor::sql {

// Throws StoreError "database PATH: OPERATION: <sqlite3_errmsg>".
[[noreturn]] void fail(sqlite3* db, const std::string& path, std::string_view operation);

// Runs statements that bind nothing and whose rows, if any, do not matter.
void exec(sqlite3* db, const std::string& path, const char* sql, std::string_view operation);

// A prepared statement, kept for the life of the connection when it sits on a hot path.
class Statement {
public:
    Statement(sqlite3* db, std::string path, const char* sql);
    ~Statement();
    Statement(const Statement&) = delete;
    Statement& operator=(const Statement&) = delete;

    // Parameter indexes start at 1, as in SQL's ?1. Values are copied into SQLite.
    void bind_text(int index, std::string_view text);
    void bind_blob(int index, std::string_view bytes);
    void bind_int64(int index, std::int64_t value);
    void bind_null(int index);

    // True when a row is ready, false when the statement is done; throws on any error.
    bool step(std::string_view operation);

    bool column_is_null(int column) const;
    std::int64_t column_int64(int column) const;
    std::string_view column_text(int column) const;  // valid until the next step or reset
    std::string_view column_blob(int column) const;  // valid until the next step or reset

    // Rows the last INSERT, UPDATE or DELETE on this connection changed.
    std::int64_t changes() const;

    // Ends the run and drops the bindings. A SELECT left unreset keeps its read snapshot open,
    // which stops WAL checkpoints, so every use ends here (see Run).
    void reset() noexcept;

private:
    void check_bind(int rc, int index);

    sqlite3* db_;
    std::string path_;
    sqlite3_stmt* stmt_ = nullptr;
};

// One use of a cached statement: resets it when the scope ends, however the scope ends.
class Run {
public:
    explicit Run(Statement& statement) : statement_(statement) { statement_.reset(); }
    ~Run() { statement_.reset(); }
    Run(const Run&) = delete;
    Run& operator=(const Run&) = delete;
    Statement* operator->() const { return &statement_; }

private:
    Statement& statement_;
};

// BEGIN IMMEDIATE: takes the write lock at once, so a transaction that reads and then writes
// cannot fail halfway with SQLITE_BUSY. Rolls back unless commit() was reached.
class Transaction {
public:
    Transaction(sqlite3* db, std::string path);
    ~Transaction();
    Transaction(const Transaction&) = delete;
    Transaction& operator=(const Transaction&) = delete;
    void commit();

private:
    sqlite3* db_;
    std::string path_;
    bool open_ = false;
};

}  // namespace twofactor::sql
