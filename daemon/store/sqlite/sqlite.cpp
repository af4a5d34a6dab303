// SPDX-License-Identifier: BSD-2-Clause
// Error handling and resource ownership for the SQLite C API.
#include "daemon/store/sqlite/sqlite.h"

#include <utility>

#include "daemon/store/store.h"

namespace twofactor::sql {

void fail(sqlite3* db, const std::string& path, std::string_view operation) {
    // A null handle only comes from sqlite3_open_v2 failing to allocate one.
    const char* message = db != nullptr ? sqlite3_errmsg(db) : "out of memory";
    throw StoreError("database " + path + ": " + std::string(operation) + ": " + message);
}

void exec(sqlite3* db, const std::string& path, const char* sql, std::string_view operation) {
    if (sqlite3_exec(db, sql, nullptr, nullptr, nullptr) != SQLITE_OK) fail(db, path, operation);
}

Statement::Statement(sqlite3* db, std::string path, const char* sql)
    : db_(db), path_(std::move(path)) {
    // PERSISTENT: these statements live as long as the connection; SQLite places them accordingly.
    if (sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt_, nullptr) != SQLITE_OK)
        fail(db_, path_, std::string("prepare \"") + sql + "\"");
}

Statement::~Statement() {
    sqlite3_finalize(stmt_);
}

void Statement::check_bind(int rc, int index) {
    if (rc != SQLITE_OK) fail(db_, path_, "bind parameter " + std::to_string(index));
}

void Statement::bind_text(int index, std::string_view text) {
    check_bind(
        sqlite3_bind_text64(stmt_, index, text.data(), text.size(), SQLITE_TRANSIENT, SQLITE_UTF8),
        index);
}

void Statement::bind_blob(int index, std::string_view bytes) {
    // A zero-length blob bound from a null pointer would read as NULL; "" keeps it a blob.
    const char* data = bytes.empty() ? "" : bytes.data();
    check_bind(sqlite3_bind_blob64(stmt_, index, data, bytes.size(), SQLITE_TRANSIENT), index);
}

void Statement::bind_int64(int index, std::int64_t value) {
    check_bind(sqlite3_bind_int64(stmt_, index, value), index);
}

void Statement::bind_null(int index) {
    check_bind(sqlite3_bind_null(stmt_, index), index);
}

bool Statement::step(std::string_view operation) {
    int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    fail(db_, path_, operation);
}

bool Statement::column_is_null(int column) const {
    return sqlite3_column_type(stmt_, column) == SQLITE_NULL;
}

std::int64_t Statement::column_int64(int column) const {
    return sqlite3_column_int64(stmt_, column);
}

std::string_view Statement::column_text(int column) const {
    const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, column));
    // Size after the pointer: the conversion to text may change the size SQLite reports.
    int size = sqlite3_column_bytes(stmt_, column);
    return text == nullptr ? std::string_view() : std::string_view(text, size);
}

std::string_view Statement::column_blob(int column) const {
    const auto* blob = static_cast<const char*>(sqlite3_column_blob(stmt_, column));
    int size = sqlite3_column_bytes(stmt_, column);
    return blob == nullptr ? std::string_view() : std::string_view(blob, size);
}

std::int64_t Statement::changes() const {
    return sqlite3_changes64(db_);
}

void Statement::reset() noexcept {
    // sqlite3_reset repeats the last step's error, which step() has already reported.
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
}

Transaction::Transaction(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {
    exec(db_, path_, "BEGIN IMMEDIATE", "begin transaction");
    open_ = true;
}

Transaction::~Transaction() {
    // Nothing to report from a destructor; a failed rollback leaves SQLite to roll back itself
    // when the connection closes.
    if (open_) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
}

void Transaction::commit() {
    exec(db_, path_, "COMMIT", "commit");
    open_ = false;
}

}  // namespace twofactor::sql
