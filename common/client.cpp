// SPDX-License-Identifier: BSD-2-Clause
#include "common/client.h"

#include "common/secure.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "common/accounts.h"
#include "common/errno_text.h"
#include "paths.h"

namespace twofactor {
namespace {

using Clock = std::chrono::steady_clock;

// Moves the descriptor above 0-2 so a host program that closed its standard streams never has
// our socket written to as if it were stderr.
int make_safe_fd(int fd) {
    if (fd > 2) return fd;
    int moved = fcntl(fd, F_DUPFD_CLOEXEC, 3);
    int saved = errno;
    close(fd);
    errno = saved;
    return moved;
}

int remaining_ms(Clock::time_point deadline) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    return left.count() > 0 ? static_cast<int>(left.count()) : 0;
}

// Waits for `events` on fd until the deadline; false on timeout.
bool wait_for(int fd, short events, Clock::time_point deadline) {
    for (int rounds = 0; rounds < 1000; ++rounds) {
        pollfd p{fd, events, 0};
        int r = poll(&p, 1, remaining_ms(deadline));
        if (r > 0) return true;
        if (r == 0) return false;
        if (errno != EINTR) return false;
    }
    return false;
}

// connect() on a Unix stream socket fails with EAGAIN, and leaves it unconnected, while the
// listener's accept queue is full: the daemon is busy, not gone. It is tried again after a
// pause that doubles from the first to the longest, until the deadline.
constexpr std::chrono::milliseconds kFirstPause{5};
constexpr std::chrono::milliseconds kLongestPause{100};

// Connects, waiting while the daemon's accept queue is full. 0 once connected, EINPROGRESS
// while connecting, ETIMEDOUT when the queue stayed full until the deadline, else connect's
// errno. Each round sleeps at least 1 ms until the deadline, so the loop ends with it.
int connect_when_accepted(int fd, const sockaddr_un& address, Clock::time_point deadline) {
    auto pause = kFirstPause;
    for (;;) {
        if (connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof(address)) == 0)
            return 0;
        if (errno != EAGAIN) return errno;
        const int left = remaining_ms(deadline);
        if (left == 0) return ETIMEDOUT;
        poll(nullptr, 0, std::min(left, static_cast<int>(pause.count())));
        pause = std::min(pause * 2, kLongestPause);
    }
}

std::optional<uid_t> daemon_user_uid() {
    auto account = account_named(paths::kDaemonUser);
    if (!account) return std::nullopt;
    return account->uid;
}

}  // namespace

Client::Client(const std::string& socket_path, std::chrono::milliseconds timeout)
    : path_(socket_path), timeout_(timeout) {
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    if (socket_path.empty() || socket_path.size() >= sizeof(address.sun_path))
        throw Unreachable("socket path '" + socket_path + "' is empty or too long");
    std::memcpy(address.sun_path, socket_path.c_str(), socket_path.size() + 1);

    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) throw Unreachable("cannot create a socket: " + errno_text(errno));
    fd_ = make_safe_fd(fd);
    if (fd_ < 0) throw Unreachable("cannot move the socket above fd 2: " + errno_text(errno));

    auto deadline = Clock::now() + timeout_;
    const int connected = connect_when_accepted(fd_, address, deadline);
    if (connected != 0 && connected != EINPROGRESS) {
        close(fd_);
        fd_ = -1;
        if (connected == ETIMEDOUT)
            throw Unreachable("timed out connecting to " + path_ +
                              ": its queue of connections stayed full (the daemon is busy)");
        throw Unreachable("cannot connect to " + path_ + ": " + errno_text(connected));
    }
    if (connected == EINPROGRESS) {
        if (!wait_for(fd_, POLLOUT, deadline)) {
            close(fd_);
            fd_ = -1;
            throw Unreachable("timed out connecting to " + path_);
        }
        int err = 0;
        socklen_t len = sizeof(err);
        if (getsockopt(fd_, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0) {
            close(fd_);
            fd_ = -1;
            throw Unreachable("cannot connect to " + path_ + ": " + errno_text(err));
        }
    }

    ucred peer{};
    socklen_t len = sizeof(peer);
    if (getsockopt(fd_, SOL_SOCKET, SO_PEERCRED, &peer, &len) != 0) {
        int err = errno;
        close(fd_);
        fd_ = -1;
        throw Unreachable("cannot read the credentials of " + path_ + ": " + errno_text(err));
    }
    // A socket that is not connected has no peer and reads uid -1, which no process has: an
    // outage, not an impostor.
    if (peer.uid == static_cast<uid_t>(-1)) {
        close(fd_);
        fd_ = -1;
        throw Unreachable("cannot connect to " + path_ + ": the socket has no peer");
    }
    // The user database is read only when the server is not root: a lookup costs a file scan,
    // and for a name that is missing, a round of every NSS module.
    if (peer.uid != 0 && peer.uid != daemon_user_uid()) {
        close(fd_);
        fd_ = -1;
        throw Impostor("socket " + path_ + " is served by uid " + std::to_string(peer.uid) +
                       ", not root or the daemon's user");
    }
}

Client::~Client() {
    if (fd_ >= 0) close(fd_);
}

CallResult Client::call(std::string_view method, const protocol::json& parameters) {
    auto deadline = Clock::now() + timeout_;
    std::string out = protocol::encode(protocol::make_call(method, parameters));
    std::size_t sent = 0;
    while (sent < out.size()) {
        ssize_t n = send(fd_, out.data() + sent, out.size() - sent, MSG_NOSIGNAL);
        if (n > 0) {
            sent += static_cast<std::size_t>(n);
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            if (!wait_for(fd_, POLLOUT, deadline))
                throw Unreachable("timed out writing to " + path_);
            continue;
        }
        throw Unreachable("cannot write to " + path_ + ": " + errno_text(errno));
    }
    wipe(out);  // the request may carry a code or a secret

    protocol::FrameReader reader;
    char buffer[4096];
    for (;;) {
        protocol::json message;
        switch (reader.next(message)) {
            case protocol::FrameReader::Status::Message: {
                CallResult result;
                if (!message.is_object()) throw Unreachable("malformed reply from " + path_);
                auto params = message.find("parameters");
                result.parameters = (params != message.end() && params->is_object())
                                        ? *params
                                        : protocol::json::object();
                auto error = message.find("error");
                if (error != message.end()) {
                    if (!error->is_string() || error->get_ref<const std::string&>().empty())
                        throw Unreachable("malformed error reply from " + path_);
                    result.error = error->get<std::string>();
                }
                return result;
            }
            case protocol::FrameReader::Status::Malformed:
            case protocol::FrameReader::Status::TooLarge:
                throw Unreachable("malformed reply from " + path_);
            case protocol::FrameReader::Status::NeedMore:
                break;
        }
        if (!wait_for(fd_, POLLIN, deadline))
            throw Unreachable("timed out waiting for an answer from " + path_);
        ssize_t n = recv(fd_, buffer, sizeof(buffer), 0);
        if (n == 0) throw Unreachable(path_ + " closed the connection");
        if (n < 0) {
            if (errno == EINTR || errno == EAGAIN) continue;
            throw Unreachable("cannot read from " + path_ + ": " + errno_text(errno));
        }
        if (!reader.feed(std::string_view(buffer, static_cast<std::size_t>(n))))
            throw Unreachable("oversize reply from " + path_);
    }
}

}  // namespace twofactor
