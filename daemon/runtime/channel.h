// SPDX-License-Identifier: BSD-2-Clause
// The byte stream under a connection's Varlink frames: the Unix socket itself, or TLS over TCP
// from a login host. The server's framing, limits and timers are the same over both.
#pragma once

#include <sys/socket.h>
#include <sys/types.h>

#include <cerrno>
#include <cstddef>

namespace twofactor {

class Channel {
public:
    virtual ~Channel() = default;
    // Bytes moved (> 0), 0 when the stream would block, -1 when the peer is gone or failed.
    virtual ssize_t receive(char* buffer, std::size_t size) = 0;
    virtual ssize_t transmit(const char* buffer, std::size_t size) = 0;
    // Bytes read from the socket but not yet returned by receive() (TLS records): the socket
    // will not say they are there.
    virtual bool holds_input() const { return false; }
};

class SocketChannel final : public Channel {
public:
    explicit SocketChannel(int fd) : fd_(fd) {}
    ssize_t receive(char* buffer, std::size_t size) override {
        for (;;) {
            ssize_t n = recv(fd_, buffer, size, MSG_DONTWAIT);
            if (n > 0) return n;
            if (n < 0 && errno == EINTR) continue;
            if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return 0;
            return -1;
        }
    }
    ssize_t transmit(const char* buffer, std::size_t size) override {
        for (;;) {
            ssize_t n = send(fd_, buffer, size, MSG_NOSIGNAL | MSG_DONTWAIT);
            if (n >= 0) return n;
            if (errno == EINTR) continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) return 0;
            return -1;
        }
    }

private:
    int fd_;
};

}  // namespace twofactor
