// SPDX-License-Identifier: BSD-2-Clause
// A server's port for login hosts: accepts TCP on [listen] address, runs each TLS 1.3 handshake
// on the loop without blocking, admits a host only when its certificate chains to
// client_ca_file and its name is a line of hosts_file, then hands the connection to a Server
// (the same framing, limits and timers as the Unix socket). reload() rereads hosts_file and
// closes the connections of hosts no longer in it.
//
// Until its handshake ends a connection belongs to no host, so what one host may hold
// (connections_per_host) cannot bound it: handshakes are bounded per peer address and in all,
// each ends within the handshake timeout, and when there is no room (the address's share or the
// table full, or no file descriptor left) the oldest gives way to the newest: a handshake takes
// a round trip or two, so the oldest is the likeliest to be stalled.
#pragma once

#include <openssl/ssl.h>

#include <chrono>
#include <map>
#include <memory>
#include <set>
#include <string>

#include "daemon/config/settings.h"
#include "daemon/log/log.h"
#include "daemon/runtime/accept_backoff.h"
#include "daemon/runtime/refusal_log.h"
#include "daemon/runtime/server.h"

typedef struct sd_event sd_event;
typedef struct sd_event_source sd_event_source;

namespace twofactor {

// The admitted host names in `path`: one a line, lower-cased; blank lines and # comments
// skipped. Throws std::runtime_error when it cannot be read.
std::set<std::string> read_hosts_file(const std::string& path);

class TlsListener {
public:
    // `key_file`: the server's key (the credential's path or [listen] key_file). Throws
    // std::runtime_error naming what failed (a file, the address).
    TlsListener(sd_event* loop, const ListenSettings& settings, const std::string& key_file,
                std::int64_t handshake_timeout_seconds, Server& server);
    ~TlsListener();
    TlsListener(const TlsListener&) = delete;
    TlsListener& operator=(const TlsListener&) = delete;

    // Rereads hosts_file; keeps the old list (and says so) when it cannot be read.
    void reload();
    // Stopping: accepts no more connections and drops the handshakes not finished.
    void stop_accepting();

private:
    struct Handshake;
    static int on_accept(sd_event_source*, int fd, uint32_t, void* userdata);
    void start_handshake(int fd, const std::string& peer, const std::string& network);
    void step(Handshake* handshake);
    void finish(Handshake* handshake);
    void drop(Handshake* handshake);
    // Drops the oldest handshake in progress (of `network`, or of any when empty); false when
    // there is none.
    bool drop_oldest(const std::string& network);
    // A line about a refused connection, unless refusals_ holds it back (the address's first,
    // then one every RefusalLog::kEvery, saying how many were held back).
    void log_refusal(const Handshake* handshake, log::Level level, std::string_view message,
                     std::initializer_list<log::Field> fields);

    sd_event* loop_;
    const ListenSettings& settings_;
    std::int64_t handshake_timeout_;
    Server& server_;
    SSL_CTX* context_ = nullptr;
    int fd_ = -1;
    sd_event_source* accept_source_ = nullptr;
    std::set<std::string> hosts_;
    std::map<Handshake*, std::unique_ptr<Handshake>> handshakes_;
    std::map<std::string, std::size_t> handshakes_per_network_;
    std::uint64_t handshakes_started_ = 0;
    std::uint64_t crowded_ = 0;  // handshakes dropped for kMaxHandshakesPerNetwork, ever
    std::chrono::steady_clock::time_point last_crowded_log_;
    AcceptBackoff backoff_;
    RefusalLog refusals_;
};

}  // namespace twofactor
