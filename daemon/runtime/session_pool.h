// SPDX-License-Identifier: BSD-2-Clause
// An agent's open TLS connections to its servers, kept between calls: a new connection costs a
// TCP connect and a TLS 1.3 handshake with both certificates verified, several times the call
// itself (tests/bench/RESULTS.md §6). A connection is reused only while it is quiet (the server
// has not closed it or sent anything unasked) and younger in idleness than kMaxIdle, which is
// kept under the server's [daemon] idle_timeout (default 30 s) so that a server seldom closes a
// connection just as the agent sends a call on it.
#pragma once

#include <openssl/ssl.h>

#include <chrono>
#include <cstddef>
#include <mutex>
#include <optional>
#include <vector>

namespace twofactor {

// One TLS session and its socket, ended (close_notify unless it broke, SSL_free, close) when
// destroyed. Move-only.
class TlsSession {
public:
    TlsSession() = default;
    TlsSession(int fd, SSL* ssl) : fd_(fd), ssl_(ssl) {}
    TlsSession(TlsSession&& other) noexcept;
    TlsSession& operator=(TlsSession&& other) noexcept;
    TlsSession(const TlsSession&) = delete;
    TlsSession& operator=(const TlsSession&) = delete;
    ~TlsSession();

    int fd() const { return fd_; }
    SSL* ssl() const { return ssl_; }
    void set_fd(int fd) { fd_ = fd; }
    void set_ssl(SSL* ssl) { ssl_ = ssl; }
    // After a fatal error (OpenSSL forbids SSL_shutdown then) or a stream out of step: never
    // used again.
    void mark_broken() { broken_ = true; }
    bool broken() const { return broken_; }
    // True when the server has closed the connection or sent bytes nobody asked for: a call
    // sent on it would be lost, or its answer mixed up.
    bool closed_by_peer() const;

private:
    void end();
    int fd_ = -1;
    SSL* ssl_ = nullptr;
    bool broken_ = false;
};

class SessionPool {
public:
    using Clock = std::chrono::steady_clock;
    static constexpr auto kMaxIdle = std::chrono::seconds(10);

    // `per_server`: idle sessions kept for each server at most (as many as calls can run at
    // once: more would never be taken).
    SessionPool(std::size_t servers, std::size_t per_server);

    // The most recently used quiet session to `server`, or nullopt; the closed and the too old
    // are ended on the way.
    std::optional<TlsSession> take(std::size_t server);
    // Keeps `session` for the next call to `server`, or ends it when it is broken or the pool is
    // full.
    void give(std::size_t server, TlsSession session);
    // Ends every idle session to `server` (it failed: they are likely dead too).
    void clear(std::size_t server);

private:
    struct Idle {
        TlsSession session;
        Clock::time_point since;
    };
    std::size_t per_server_;
    std::mutex mutex_;
    std::vector<std::vector<Idle>> idle_;
};

}  // namespace twofactor
