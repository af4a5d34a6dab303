// SPDX-License-Identifier: BSD-2-Clause
#include "daemon/runtime/server.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <systemd/sd-daemon.h>
#include <systemd/sd-event.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <optional>
#include <stdexcept>
#include <utility>
#include <variant>
#include <vector>

#include "common/accounts.h"
#include "common/errno_text.h"
#include "daemon/log/log.h"
#include "daemon/log/log_budget.h"

namespace twofactor {
namespace {

constexpr std::size_t kReadChunk = 16 * 1024;

// The call in a message, or the InvalidParameter error to answer when it is not exactly
// {"method": string, "parameters": object}. Varlink's "oneway", "more" and "upgrade" are not
// supported: refusing them beats silently answering a call that asked for no answer.
std::variant<protocol::Request, protocol::json> read_call(const protocol::json& message) {
    for (const auto& [key, value] : message.items()) {
        if (key != "method" && key != "parameters") {
            std::string field = key.substr(0, 64);
            return protocol::make_error(
                protocol::error::InvalidParameter,
                {{"field", field},
                 {"reason", "is not part of a call"},
                 {"message", "malformed call: " + field + " is not part of a call"}});
        }
    }
    if (auto request = protocol::parse_request(message)) return std::move(*request);
    return protocol::make_error(
        protocol::error::InvalidParameter,
        {{"field", "method"},
         {"reason", "a call is {\"method\": string, \"parameters\": object}"},
         {"message", "malformed call"}});
}

// A login host's agent names its own caller beside the call: {"uid": N, "user": NAME}, the
// user empty for root. The server cannot check the names, only that they are well formed; what
// a host's caller may do is limited by HostPolicy (host_policy.h).
std::optional<protocol::json> take_remote_caller(protocol::json& message, Caller& caller) {
    auto refuse = [](const char* why) {
        return protocol::make_error(protocol::error::InvalidParameter,
                                    {{"field", "caller"},
                                     {"reason", why},
                                     {"message", std::string("malformed call: caller ") + why}});
    };
    auto it = message.find("caller");
    if (it == message.end() || !it->is_object()) return refuse("is missing or not an object");
    const auto& c = *it;
    auto uid = c.find("uid");
    auto user = c.find("user");
    if (c.size() != 2 || uid == c.end() || !uid->is_number_unsigned() || user == c.end() ||
        !user->is_string())
        return refuse("must be {\"uid\": number, \"user\": string}");
    const auto number = uid->get<std::uint64_t>();
    const auto name = user->get<std::string>();
    if (number > 0xFFFFFFFEULL || name.size() > 256 || (number == 0) != name.empty())
        return refuse("names a uid and user that do not go together");
    caller.uid = static_cast<uid_t>(number);
    caller.user = name;
    message.erase(it);
    return std::nullopt;
}

std::string login_name(uid_t uid) {
    auto account = account_of(uid);
    return account ? account->name : std::string();
}

}  // namespace

ListenSocket open_listen_socket(const std::string& path) {
    int passed = sd_listen_fds(1);
    if (passed < 0)
        throw std::runtime_error("cannot read the sockets systemd passed: " + errno_text(-passed));
    if (passed > 1)
        throw std::runtime_error("systemd passed " + std::to_string(passed) +
                                 " sockets; twofactord expects exactly one");
    if (passed == 1) {
        int fd = SD_LISTEN_FDS_START;
        if (sd_is_socket_unix(fd, SOCK_STREAM, 1, nullptr, 0) <= 0)
            throw std::runtime_error(
                "the socket systemd passed is not a listening Unix stream socket");
        int flags = fcntl(fd, F_GETFL);
        if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0)
            throw std::runtime_error("cannot make the socket systemd passed (fd " +
                                     std::to_string(fd) + ") non-blocking: " + errno_text(errno));
        if (fcntl(fd, F_SETFD, FD_CLOEXEC) < 0)
            throw std::runtime_error("cannot set close-on-exec on the socket systemd passed (fd " +
                                     std::to_string(fd) + "): " + errno_text(errno));
        return {fd, false, {}};
    }

    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    if (path.empty() || path.size() >= sizeof(address.sun_path))
        throw std::runtime_error("socket path '" + path + "' is empty or too long");
    std::memcpy(address.sun_path, path.c_str(), path.size() + 1);

    auto slash = path.rfind('/');
    if (slash != std::string::npos && slash > 0) {
        std::string dir = path.substr(0, slash);
        if (mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST)
            throw std::runtime_error("cannot create " + dir + ": " + errno_text(errno));
    }

    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) throw std::runtime_error("cannot create a socket: " + errno_text(errno));

    struct stat st {};
    if (lstat(path.c_str(), &st) == 0) {
        if (!S_ISSOCK(st.st_mode)) {
            close(fd);
            throw std::runtime_error(path + " exists and is not a socket; not replacing it");
        }
        // A live daemon answers; a stale file from a crash refuses and can go.
        int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        bool live = probe >= 0 &&
                    connect(probe, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0;
        if (probe >= 0) close(probe);
        if (live) {
            close(fd);
            throw std::runtime_error("another daemon is already listening on " + path);
        }
        unlink(path.c_str());
    }
    if (bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
        int err = errno;
        close(fd);
        throw std::runtime_error("cannot bind " + path + ": " + errno_text(err));
    }
    // Every user may connect (self-service, screen lockers); the daemon checks each peer's uid.
    if (chmod(path.c_str(), 0666) != 0 || listen(fd, SOMAXCONN) != 0) {
        int err = errno;
        close(fd);
        unlink(path.c_str());
        throw std::runtime_error("cannot listen on " + path + ": " + errno_text(err));
    }
    return {fd, true, path};
}

struct Server::Connection : std::enable_shared_from_this<Server::Connection> {
    Server* server = nullptr;
    int fd = -1;
    std::unique_ptr<Channel> channel;
    Caller caller;
    protocol::FrameReader reader;
    std::string out;
    sd_event_source* io = nullptr;
    sd_event_source* idle = nullptr;
    bool busy = false;         // a call is being served; read nothing more until it answers
    bool answered = false;     // a call was answered since the idle timer was last armed
    bool in_dispatch = false;  // inside process(): a synchronous answer must not recurse
    bool closing = false;      // close once `out` is written

    static int on_io(sd_event_source*, int, uint32_t revents, void* userdata) {
        auto* self = static_cast<Connection*>(userdata);
        self->handle_io(revents);
        return 0;
    }

    static int on_idle(sd_event_source*, uint64_t, void* userdata) {
        auto* self = static_cast<Connection*>(userdata);
        if (self->busy) return 0;
        log::debug("closing an idle or too slow connection",
                   {{"uid", std::to_string(self->caller.uid)}});
        self->server->close_connection(self);
        return 0;
    }

    // Both return false, after logging, when sd-event refused: the caller closes the connection
    // (one without its idle timer or the right events would never be closed or never be read).
    bool arm_idle_timer() {
        uint64_t usec = static_cast<uint64_t>(server->settings_.idle_timeout) * 1000000ULL;
        int r = sd_event_source_set_time_relative(idle, usec);
        if (r >= 0) r = sd_event_source_set_enabled(idle, SD_EVENT_ONESHOT);
        if (r < 0)
            log::error("cannot arm the idle timer of a connection",
                       {{"uid", std::to_string(caller.uid)},
                        {"usec", std::to_string(usec)},
                        {"error", errno_text(-r)}});
        return r >= 0;
    }

    bool update_events() {
        uint32_t events = 0;
        // Replies not yet taken by the peer stop the reading: a client that sends calls and
        // never reads the answers must not make the daemon buffer them without bound.
        if (!busy && !closing && out.empty()) events |= EPOLLIN;
        if (!out.empty()) events |= EPOLLOUT;
        int r = sd_event_source_set_io_events(io, events);
        if (r < 0)
            log::error("cannot change the events watched on a connection",
                       {{"uid", std::to_string(caller.uid)},
                        {"events", std::to_string(events)},
                        {"error", errno_text(-r)}});
        return r >= 0;
    }

    // Returns false when the connection was closed (the object is gone).
    bool flush() {
        while (!out.empty()) {
            ssize_t n = channel->transmit(out.data(), out.size());
            if (n > 0) {
                out.erase(0, static_cast<std::size_t>(n));
                continue;
            }
            if (n == 0) break;
            server->close_connection(this);
            return false;
        }
        if (out.empty() && closing) {
            server->close_connection(this);
            return false;
        }
        if (!update_events()) {
            server->close_connection(this);
            return false;
        }
        return true;
    }

    void handle_io(uint32_t revents) {
        auto keep = shared_from_this();
        if (revents & EPOLLOUT) {
            if (!flush()) return;
        }
        if ((revents & EPOLLIN) && out.empty()) {
            char buffer[kReadChunk];
            // A TLS channel may hold whole records the socket no longer signals: take them too,
            // as many as one oversize message at most.
            for (std::size_t taken = 0; taken <= protocol::kMaxMessage;) {
                ssize_t n = channel->receive(buffer, sizeof(buffer));
                if (n < 0) {
                    server->close_connection(this);
                    return;
                }
                if (n == 0) break;
                taken += static_cast<std::size_t>(n);
                if (!reader.feed(std::string_view(buffer, static_cast<std::size_t>(n)))) {
                    if (log::from_caller(caller.uid))
                        log::info("closing a connection that sent an oversize message",
                                  {{"uid", std::to_string(caller.uid)}, {"host", caller.host}});
                    server->close_connection(this);
                    return;
                }
                if (!channel->holds_input()) break;
            }
            process();
            return;
        }
        if (revents & (EPOLLHUP | EPOLLERR)) {
            if (busy) {
                int r = sd_event_source_set_enabled(io, SD_EVENT_OFF);
                if (r >= 0) return;  // the pending answer finds the peer gone and closes then
                log::error("cannot stop watching a connection whose peer hung up",
                           {{"uid", std::to_string(caller.uid)}, {"error", errno_text(-r)}});
            }
            server->close_connection(this);
        }
    }

    void answer(protocol::json message) {
        try {
            out += protocol::encode(message);
        } catch (const std::exception&) {
            out += protocol::encode(protocol::make_error(
                protocol::error::InternalError, {{"message", "the answer was too large"}}));
        }
        busy = false;
        answered = true;
        if (in_dispatch) return;  // process() goes on with the next buffered call
        if (!flush()) return;
        process();
    }

    void process() {
        auto keep = shared_from_this();
        in_dispatch = true;
        while (!busy && !closing) {
            protocol::json message;
            auto status = reader.next(message);
            if (status == protocol::FrameReader::Status::NeedMore) break;
            if (status != protocol::FrameReader::Status::Message) {
                if (log::from_caller(caller.uid))
                    log::info("closing a connection that sent a malformed message",
                              {{"uid", std::to_string(caller.uid)}});
                // Calls before the bad frame keep their answers (a Complete may have used a
                // code); nothing after it is read. flush() closes once they are written.
                closing = true;
                break;
            }
            Caller call_caller = caller;
            if (!caller.host.empty()) {
                auto error = take_remote_caller(message, call_caller);
                if (error) {
                    out += protocol::encode(*error);
                    answered = true;
                    continue;
                }
            }
            auto call = read_call(message);
            if (auto* error = std::get_if<protocol::json>(&call)) {
                out += protocol::encode(*error);
                answered = true;
                continue;
            }
            const auto& request = std::get<protocol::Request>(call);
            busy = true;
            std::weak_ptr<Connection> weak = keep;
            Reply reply([weak](protocol::json answer_message) {
                if (auto self = weak.lock()) self->answer(std::move(answer_message));
            });
            try {
                server->handler_(call_caller, request, reply);
            } catch (const std::exception& e) {
                log::error("a call failed", {{"method", request.method}, {"error", e.what()}});
                reply(protocol::make_error(protocol::error::InternalError,
                                           {{"message", "the daemon failed; see its log"}}));
            }
            if (closing || fd < 0) break;
        }
        in_dispatch = false;
        if (fd < 0) return;
        // Only an answered call restarts the idle timer, not every read: a client sending a
        // byte a second is cut off at the timeout like one that sends nothing.
        if (!busy && answered) {
            answered = false;
            if (!arm_idle_timer()) {
                server->close_connection(this);
                return;
            }
        }
        flush();
    }
};

Server::Server(sd_event* loop, int listen_fd, Handler handler, const DaemonSettings& settings)
    : loop_(loop),
      handler_(std::move(handler)),
      settings_(settings),
      backoff_(loop, "the Unix socket") {
    if (listen_fd < 0) return;
    int r = sd_event_add_io(loop_, &accept_source_, listen_fd, EPOLLIN, &Server::on_accept, this);
    if (r < 0) throw std::runtime_error("cannot watch the listening socket: " + errno_text(-r));
}

Server::~Server() {
    while (!connections_.empty()) close_connection(connections_.begin()->first);
    sd_event_source_unref(accept_source_);
}

int Server::on_accept(sd_event_source*, int fd, uint32_t, void* userdata) {
    auto* self = static_cast<Server*>(userdata);
    // Bounded: take what is queued now, then let the loop serve others.
    for (int i = 0; i < 64; ++i) {
        int client = accept4(fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (client < 0) {
            const int error = errno;
            if (error != EAGAIN && error != EINTR && error != ECONNABORTED &&
                !self->backoff_.pause(error, self->accept_source_))
                log::warning("accept failed", {{"error", errno_text(error)}});
            break;
        }
        self->accept_one(client);
    }
    return 0;
}

bool Server::admit(uid_t uid) {
    // Root's connections are the logins themselves (sshd, sudo, su all run the module as root):
    // they are bounded on their own, so that local users filling the socket cannot lock everyone
    // out, and a burst of logins is not cut at the per-uid limit meant for users.
    const auto limit = static_cast<std::size_t>(settings_.max_connections);
    const auto root_it = per_uid_.find(0);
    const std::size_t root_open = root_it == per_uid_.end() ? 0 : root_it->second;
    if (uid == 0) return root_open < limit;
    const std::size_t users_open = connections_.size() - root_open;
    const auto mine = per_uid_.find(uid);
    const int mine_open = mine == per_uid_.end() ? 0 : mine->second;
    return users_open < limit && mine_open < settings_.max_connections_per_uid;
}

void Server::accept_one(int client_fd) {
    ucred peer{};
    socklen_t len = sizeof(peer);
    if (getsockopt(client_fd, SOL_SOCKET, SO_PEERCRED, &peer, &len) != 0) {
        close(client_fd);
        return;
    }
    if (!admit(peer.uid)) {
        if (log::from_caller(peer.uid))
            log::warning("refusing a connection: too many open",
                         {{"uid", std::to_string(peer.uid)}});
        close(client_fd);
        return;
    }
    auto connection = std::make_shared<Connection>();
    connection->server = this;
    connection->fd = client_fd;
    connection->channel = std::make_unique<SocketChannel>(client_fd);
    connection->caller.uid = peer.uid;
    // Root may act for anyone, so its name is never asked for; not looking it up spares every
    // login (the module runs as root) a scan of the user database, twice.
    if (peer.uid != 0) connection->caller.user = login_name(peer.uid);
    int r = sd_event_add_io(loop_, &connection->io, client_fd, EPOLLIN, &Connection::on_io,
                            connection.get());
    if (r >= 0)
        r = sd_event_add_time_relative(loop_, &connection->idle, CLOCK_MONOTONIC,
                                       static_cast<uint64_t>(settings_.idle_timeout) * 1000000ULL,
                                       0, &Connection::on_idle, connection.get());
    if (r < 0) {
        log::error("cannot watch a connection", {{"error", errno_text(-r)}});
        sd_event_source_unref(connection->io);
        close(client_fd);
        return;
    }
    per_uid_[peer.uid] += 1;
    connections_.emplace(connection.get(), std::move(connection));
}

void Server::close_connection(Connection* connection) {
    auto it = connections_.find(connection);
    if (it == connections_.end()) return;
    auto keep = it->second;
    connections_.erase(it);
    sd_event_source_disable_unref(keep->io);
    sd_event_source_disable_unref(keep->idle);
    keep->io = nullptr;
    keep->idle = nullptr;
    keep->channel.reset();  // a TLS session says goodbye before its socket is closed
    close(keep->fd);
    keep->fd = -1;
    keep->closing = true;
    if (!keep->caller.host.empty()) {
        if (--per_host_[keep->caller.host] <= 0) per_host_.erase(keep->caller.host);
    } else if (--per_uid_[keep->caller.uid] <= 0) {
        per_uid_.erase(keep->caller.uid);
    }
}

bool Server::adopt(int fd, std::unique_ptr<Channel> channel, const std::string& host,
                   int per_host_limit) {
    auto count = per_host_.find(host);
    if (count != per_host_.end() && count->second >= per_host_limit) {
        log::warning("refusing a connection: too many open from this host",
                     {{"host", host}, {"limit", std::to_string(per_host_limit)}});
        channel.reset();
        close(fd);
        return false;
    }
    auto connection = std::make_shared<Connection>();
    connection->server = this;
    connection->fd = fd;
    connection->channel = std::move(channel);
    connection->caller.host = host;
    int r =
        sd_event_add_io(loop_, &connection->io, fd, EPOLLIN, &Connection::on_io, connection.get());
    if (r >= 0)
        r = sd_event_add_time_relative(loop_, &connection->idle, CLOCK_MONOTONIC,
                                       static_cast<uint64_t>(settings_.idle_timeout) * 1000000ULL,
                                       0, &Connection::on_idle, connection.get());
    if (r < 0) {
        log::error("cannot watch a connection", {{"host", host}, {"error", errno_text(-r)}});
        sd_event_source_disable_unref(connection->io);
        connection->channel.reset();
        close(fd);
        return false;
    }
    per_host_[host] += 1;
    connections_.emplace(connection.get(), std::move(connection));
    return true;
}

void Server::drain() {
    backoff_.stop();
    if (accept_source_ != nullptr) sd_event_source_set_enabled(accept_source_, SD_EVENT_OFF);
    std::vector<Connection*> idle;
    for (const auto& [connection, keep] : connections_) {
        connection->closing = true;
        if (!connection->busy) idle.push_back(connection);
    }
    // An idle connection closes once it has written what it still owes (at once, mostly); a
    // busy one once its answer is written (Connection::answer, flush).
    for (auto* connection : idle) connection->flush();
}

void Server::close_host(const std::string& host) {
    std::vector<Connection*> closing;
    for (const auto& [connection, keep] : connections_)
        if (connection->caller.host == host) closing.push_back(connection);
    for (auto* connection : closing) close_connection(connection);
    if (!closing.empty())
        log::notice("closed the connections of a host no longer admitted",
                    {{"host", host}, {"connections", std::to_string(closing.size())}});
}

}  // namespace twofactor
