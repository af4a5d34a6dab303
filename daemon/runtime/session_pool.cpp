// SPDX-License-Identifier: BSD-2-Clause
#include "daemon/runtime/session_pool.h"

#include <openssl/err.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <iterator>
#include <utility>

namespace twofactor {

TlsSession::TlsSession(TlsSession&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)),
      ssl_(std::exchange(other.ssl_, nullptr)),
      broken_(other.broken_) {}

TlsSession& TlsSession::operator=(TlsSession&& other) noexcept {
    if (this != &other) {
        end();
        fd_ = std::exchange(other.fd_, -1);
        ssl_ = std::exchange(other.ssl_, nullptr);
        broken_ = other.broken_;
    }
    return *this;
}

TlsSession::~TlsSession() {
    end();
}

void TlsSession::end() {
    if (ssl_ != nullptr) {
        if (!broken_) SSL_shutdown(ssl_);  // one close_notify, not waited for
        SSL_free(ssl_);
        ssl_ = nullptr;
    }
    if (fd_ >= 0) close(fd_);
    fd_ = -1;
    ERR_clear_error();
}

bool TlsSession::closed_by_peer() const {
    if (ssl_ == nullptr || fd_ < 0) return true;
    if (SSL_pending(ssl_) > 0) return true;
    // Between calls a server sends nothing: readable means a FIN, a reset, or a close_notify.
    pollfd p{fd_, POLLIN | POLLRDHUP, 0};
    const int r = poll(&p, 1, 0);
    return r != 0;
}

SessionPool::SessionPool(std::size_t servers, std::size_t per_server)
    : per_server_(per_server), idle_(servers) {}

std::optional<TlsSession> SessionPool::take(std::size_t server) {
    std::vector<Idle> ended;  // ended outside the lock: SSL_shutdown writes to the socket
    std::optional<TlsSession> found;
    {
        std::lock_guard lock(mutex_);
        auto& idle = idle_[server];
        const auto now = Clock::now();
        while (!idle.empty() && !found) {
            Idle last = std::move(idle.back());
            idle.pop_back();
            if (now - last.since < kMaxIdle && !last.session.closed_by_peer())
                found = std::move(last.session);
            else
                ended.push_back(std::move(last));
        }
    }
    return found;
}

void SessionPool::give(std::size_t server, TlsSession session) {
    std::vector<Idle> ended;
    std::lock_guard lock(mutex_);
    auto& idle = idle_[server];
    // The oldest are at the front: those past kMaxIdle make room.
    const auto now = Clock::now();
    auto old = idle.begin();
    while (old != idle.end() && now - old->since >= kMaxIdle) ++old;
    std::move(idle.begin(), old, std::back_inserter(ended));
    idle.erase(idle.begin(), old);
    if (session.broken() || idle.size() >= per_server_) return;  // `session` ends here
    idle.push_back({std::move(session), now});
}

void SessionPool::clear(std::size_t server) {
    std::vector<Idle> ended;
    std::lock_guard lock(mutex_);
    ended.swap(idle_[server]);
}

}  // namespace twofactor
