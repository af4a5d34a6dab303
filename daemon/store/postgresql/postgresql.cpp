// SPDX-License-Identifier: BSD-2-Clause
#include "daemon/store/postgresql/postgresql.h"

#include <libpq-fe.h>

#include <charconv>
#include <cstdlib>
#include <cstring>

#include "daemon/store/store.h"

namespace twofactor::pg {
namespace {

// SQLSTATE classes that mean "the server is not there now", not "this statement is wrong":
// 08 connection exception, 57P01-57P03 shutdown and startup, 53 insufficient resources.
bool is_outage(const char* sqlstate) {
    if (sqlstate == nullptr) return true;  // no answer from a server at all
    std::string_view state(sqlstate);
    return state.starts_with("08") || state.starts_with("57P") || state.starts_with("53");
}

std::string one_line(const char* message) {
    std::string text = message != nullptr ? message : "";
    while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
    for (auto& c : text) {
        if (c == '\n') c = ' ';
    }
    return text;
}

}  // namespace

std::optional<std::string> check_conninfo(const std::string& conninfo) {
    char* error = nullptr;
    PQconninfoOption* options = PQconninfoParse(conninfo.c_str(), &error);
    if (options == nullptr) {
        std::string why = error != nullptr ? one_line(error) : "out of memory";
        PQfreemem(error);
        return "conninfo cannot be parsed: " + why;
    }
    bool has_password = false;
    for (auto* o = options; o->keyword != nullptr; ++o) {
        if (std::strcmp(o->keyword, "password") == 0 && o->val != nullptr && *o->val != '\0')
            has_password = true;
    }
    PQconninfoFree(options);
    if (has_password)
        return "conninfo must not hold the password (this file is readable by others); use "
               "password_file or the credential postgresql-password";
    return std::nullopt;
}

Result::~Result() {
    PQclear(result_);
}

int Result::rows() const {
    return PQntuples(result_);
}

std::int64_t Result::affected() const {
    const char* count = PQcmdTuples(result_);
    std::int64_t value = 0;
    if (count != nullptr) std::from_chars(count, count + std::strlen(count), value);
    return value;
}

bool Result::is_null(int row, int column) const {
    return PQgetisnull(result_, row, column) != 0;
}

std::string_view Result::text(int row, int column) const {
    return std::string_view(PQgetvalue(result_, row, column),
                            static_cast<std::size_t>(PQgetlength(result_, row, column)));
}

std::int64_t Result::number(int row, int column) const {
    const std::string_view value = text(row, column);
    std::int64_t parsed = 0;
    auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), parsed);
    if (ec != std::errc() || end != value.data() + value.size())
        throw StoreError("postgresql: expected a number, read \"" + std::string(value) + "\"");
    return parsed;
}

std::string Result::bytes(int row, int column) const {
    std::size_t length = 0;
    unsigned char* raw = PQunescapeBytea(
        reinterpret_cast<const unsigned char*>(PQgetvalue(result_, row, column)), &length);
    if (raw == nullptr) throw StoreError("postgresql: cannot decode a bytea value");
    std::string value(reinterpret_cast<char*>(raw), length);
    PQfreemem(raw);
    return value;
}

Connection::Connection(std::string conninfo, SecureString password, int connect_timeout)
    : conninfo_(std::move(conninfo)),
      password_(std::move(password)),
      connect_timeout_(connect_timeout) {}

Connection::~Connection() {
    drop();
}

void Connection::drop() noexcept {
    if (conn_ != nullptr) PQfinish(conn_);
    conn_ = nullptr;
    in_transaction_ = false;
    prepared_.clear();
}

void Connection::connect() {
    if (conn_ != nullptr && PQstatus(conn_) == CONNECTION_OK) return;
    drop();
    // conninfo is expanded in place of dbname (a string or a URI): what it says overrides the
    // defaults before it, and the password read from its own file comes after, so it wins.
    const std::string timeout = std::to_string(connect_timeout_);
    // Keepalives and a TCP user timeout notice a server that vanished from the network (no
    // reset, no answer) in seconds instead of the kernel's minutes.
    std::vector<const char*> keys = {
        "connect_timeout",  "application_name", "keepalives_idle", "keepalives_interval",
        "keepalives_count", "tcp_user_timeout", "dbname"};
    std::vector<const char*> values = {timeout.c_str(), "twofactord",     "5", "2", "3",
                                       "10000",         conninfo_.c_str()};
    if (!password_.empty()) {
        keys.push_back("password");
        values.push_back(password_.c_str());
    }
    keys.push_back(nullptr);
    values.push_back(nullptr);
    conn_ = PQconnectdbParams(keys.data(), values.data(), 1);
    if (conn_ == nullptr) throw StoreUnavailable("postgresql: out of memory");
    if (PQstatus(conn_) != CONNECTION_OK) {
        std::string message = one_line(PQerrorMessage(conn_));
        drop();
        throw StoreUnavailable("postgresql: cannot connect: " + message);
    }
}

PGresult* Connection::send(const char* sql, const std::vector<Param>& params) {
    std::vector<const char*> values;
    std::vector<int> lengths;
    std::vector<int> formats;
    for (const auto& p : params) {
        values.push_back(p.is_null ? nullptr : p.value.data());
        lengths.push_back(static_cast<int>(p.value.size()));
        formats.push_back(p.binary ? 1 : 0);
    }
    const int count = static_cast<int>(params.size());
    // A statement with parameters is one of the store's few, run again and again: prepared
    // once, the server neither parses nor plans it for every call. BEGIN and COMMIT are not.
    if (params.empty()) return PQexecParams(conn_, sql, 0, nullptr, nullptr, nullptr, nullptr, 0);
    auto it = prepared_.find(sql);
    if (it == prepared_.end()) {
        std::string name = "twofactord_" + std::to_string(prepared_.size());
        PGresult* made = PQprepare(conn_, name.c_str(), sql, count, nullptr);
        if (made == nullptr || PQresultStatus(made) != PGRES_COMMAND_OK) return made;
        PQclear(made);
        it = prepared_.emplace(sql, std::move(name)).first;
    }
    return PQexecPrepared(conn_, it->second.c_str(), count, values.data(), lengths.data(),
                          formats.data(), 0);
}

void Connection::fail(PGresult* result, std::string_view operation) {
    const char* sqlstate =
        result != nullptr ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
    std::string message = one_line(result != nullptr ? PQresultErrorMessage(result) : nullptr);
    if (message.empty()) message = one_line(PQerrorMessage(conn_));
    const bool outage = PQstatus(conn_) != CONNECTION_OK || is_outage(sqlstate);
    PQclear(result);
    std::string what = "postgresql: " + std::string(operation) + ": " + message;
    if (outage) {
        drop();
        throw StoreUnavailable(what);
    }
    throw StoreError(what);
}

Result Connection::exec(const char* sql, const std::vector<Param>& params,
                        std::string_view operation) {
    const bool retry = !in_transaction_;
    connect();
    PGresult* result = send(sql, params);
    auto ok = [](PGresult* r) {
        auto status = PQresultStatus(r);
        return r != nullptr && (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK);
    };
    if (!ok(result) && retry && PQstatus(conn_) != CONNECTION_OK) {
        // The connection died since the last call (a server restart): one fresh try.
        PQclear(result);
        drop();
        connect();
        result = send(sql, params);
    }
    if (!ok(result)) fail(result, operation);
    return Result(result);
}

void Connection::exec_script(const char* sql, std::string_view operation) {
    connect();
    PGresult* result = PQexec(conn_, sql);
    if (result == nullptr || PQresultStatus(result) != PGRES_COMMAND_OK) fail(result, operation);
    PQclear(result);
}

void Connection::begin() {
    exec("BEGIN", {}, "begin a transaction");
    in_transaction_ = true;
}

void Connection::commit() {
    exec("COMMIT", {}, "commit");
    in_transaction_ = false;
}

void Connection::rollback() noexcept {
    in_transaction_ = false;
    if (conn_ == nullptr || PQstatus(conn_) != CONNECTION_OK) return;
    PQclear(PQexec(conn_, "ROLLBACK"));
}

}  // namespace twofactor::pg
