// SPDX-License-Identifier: BSD-2-Clause
// Structured logging: the journal under systemd, stderr in the foreground. Callers never pass a
// secret, a code, a token or a full phone number here.
#pragma once

#include <initializer_list>
#include <span>
#include <string>
#include <string_view>
#include <utility>

namespace twofactor::log {

enum class Level { Error = 3, Warning = 4, Notice = 5, Info = 6, Debug = 7 };

using Field = std::pair<std::string_view, std::string_view>;

// Decides the sink once: the journal when systemd started us (INVOCATION_ID and JOURNAL_STREAM),
// stderr otherwise. `debug` enables Level::Debug.
void init(bool debug);

// `fields` become journal fields (upper-cased, prefixed TWOFACTOR_) and "key=value" on stderr.
void write(Level level, std::string_view message, std::span<const Field> fields);
inline void write(Level level, std::string_view message, std::initializer_list<Field> fields = {}) {
    write(level, message, std::span<const Field>(fields.begin(), fields.size()));
}

// While a thread serves a call from a login host (a server's TLS port), every line it writes
// carries HOST=NAME (host=NAME on stderr). Scopes nest; an empty name sets none.
class HostScope {
public:
    explicit HostScope(std::string_view host);
    ~HostScope();
    HostScope(const HostScope&) = delete;
    HostScope& operator=(const HostScope&) = delete;

private:
    std::string outer_;
};

// The login host this thread serves now, empty if none (to carry into a callback).
std::string host_in_scope();

inline void error(std::string_view m, std::initializer_list<Field> f = {}) {
    write(Level::Error, m, f);
}
inline void warning(std::string_view m, std::initializer_list<Field> f = {}) {
    write(Level::Warning, m, f);
}
inline void notice(std::string_view m, std::initializer_list<Field> f = {}) {
    write(Level::Notice, m, f);
}
inline void info(std::string_view m, std::initializer_list<Field> f = {}) {
    write(Level::Info, m, f);
}
inline void debug(std::string_view m, std::initializer_list<Field> f = {}) {
    write(Level::Debug, m, f);
}

}  // namespace twofactor::log
