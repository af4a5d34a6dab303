// SPDX-License-Identifier: BSD-2-Clause
// The daemon's socket: accepts connections, reads Varlink-framed calls, knows each peer by
// SO_PEERCRED, bounds connections per uid and in total, closes idle and slow ones, and hands each
// call to the Service. One call per connection at a time.
#pragma once

#include <sys/types.h>

#include <functional>
#include <map>
#include <memory>
#include <string>

#include "daemon/config/settings.h"
#include "daemon/runtime/accept_backoff.h"
#include "daemon/runtime/channel.h"
#include "daemon/service/service.h"

typedef struct sd_event sd_event;
typedef struct sd_event_source sd_event_source;

namespace twofactor {

// The listening socket: the one systemd passed (socket activation), or one bound to `path`.
// Throws std::runtime_error with what failed and the path.
struct ListenSocket {
    int fd = -1;
    bool bound_here = false;  // we created the file, so we remove it on exit
    std::string path;
};
ListenSocket open_listen_socket(const std::string& path);

class Server {
public:
    // Where each call goes: the service on the worker (Dispatcher), or in tests the
    // service itself. It answers through the Reply it is given, on the loop; a Reply answers
    // exactly once, by itself if it must.
    using Handler = std::function<void(const Caller&, const protocol::Request&, Reply)>;

    // `listen_fd` -1: no socket of its own; connections come through adopt().
    Server(sd_event* loop, int listen_fd, Handler handler, const DaemonSettings& settings);
    ~Server();
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;

    // Serves a connection from login host `host`, whose TLS handshake is done: each call names
    // the host's caller ({"caller": {"uid": N, "user": NAME}} beside method and parameters).
    // False (the connection closed) past `per_host_limit` open connections of that host.
    bool adopt(int fd, std::unique_ptr<Channel> channel, const std::string& host,
               int per_host_limit);
    // Closes every connection of `host` (removed from the hosts file).
    void close_host(const std::string& host);

    // Stopping (Shutdown): accepts no more connections, reads no more calls, and closes each
    // connection once the call it is serving is answered and the answer written.
    void drain();
    std::size_t open_connections() const { return connections_.size(); }

private:
    struct Connection;
    friend struct Connection;

    static int on_accept(sd_event_source* source, int fd, uint32_t revents, void* userdata);
    bool admit(uid_t uid);
    void accept_one(int client_fd);
    void close_connection(Connection* connection);

    sd_event* loop_;
    sd_event_source* accept_source_ = nullptr;
    Handler handler_;
    const DaemonSettings& settings_;
    std::map<Connection*, std::shared_ptr<Connection>> connections_;
    std::map<uid_t, int> per_uid_;
    std::map<std::string, int> per_host_;
    AcceptBackoff backoff_;
};

}  // namespace twofactor
