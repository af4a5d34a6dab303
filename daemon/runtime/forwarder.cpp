// SPDX-License-Identifier: BSD-2-Clause
#include "daemon/runtime/forwarder.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <stdexcept>

#include "common/errno_text.h"
#include "daemon/config/fleet_settings.h"
#include "daemon/log/log.h"
#include "daemon/runtime/resolver.h"
#include "daemon/runtime/tls_channel.h"

namespace twofactor {
namespace {

using Clock = std::chrono::steady_clock;

int remaining_ms(Clock::time_point deadline) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    return static_cast<int>(std::clamp<long long>(left, 0, 3600 * 1000));
}

bool is_ip_address(const std::string& host) {
    unsigned char buffer[sizeof(in6_addr)];
    return inet_pton(AF_INET, host.c_str(), buffer) == 1 ||
           inet_pton(AF_INET6, host.c_str(), buffer) == 1;
}

// A TCP connection to host:port within the deadline, blocking, with send and receive timeouts
// set to what is left; -1 with `why` set when none could be made.
int connect_tcp(const Endpoint& endpoint, Clock::time_point deadline, std::string& why) {
    const auto found = resolve_tcp(endpoint.host, endpoint.port, deadline, why);
    if (!found) return -1;
    int fd = -1;
    for (auto a = found->begin(); a != found->end() && fd < 0; ++a) {
        fd = socket(a->family, a->socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->protocol);
        if (fd < 0) continue;
        int r = connect(fd, reinterpret_cast<const sockaddr*>(&a->address), a->length);
        if (r != 0 && errno == EINPROGRESS) {
            pollfd p{fd, POLLOUT, 0};
            r = poll(&p, 1, remaining_ms(deadline));
            int error = 0;
            socklen_t length = sizeof(error);
            if (r == 1 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length) == 0 && error == 0)
                r = 0;
            else {
                errno = r == 0 ? ETIMEDOUT : (error != 0 ? error : errno);
                r = -1;
            }
        }
        if (r != 0) {
            why = "cannot connect: " + errno_text(errno);
            close(fd);
            fd = -1;
        }
    }
    if (fd < 0) return -1;
    const int flags = fcntl(fd, F_GETFL);
    const int left = std::max(remaining_ms(deadline), 1);
    timeval tv{left / 1000, (left % 1000) * 1000};
    if (flags < 0 || fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) < 0 ||
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) != 0 ||
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) != 0) {
        why = "cannot set up the connection: " + errno_text(errno);
        close(fd);
        return -1;
    }
    return fd;
}

// A reused connection's send and receive timeouts: what is left of this call's deadline.
bool set_timeouts(int fd, Clock::time_point deadline) {
    const int left = std::max(remaining_ms(deadline), 1);
    timeval tv{left / 1000, (left % 1000) * 1000};
    return setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) == 0 &&
           setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) == 0;
}

}  // namespace

Forwarder::Forwarder(const RemoteSettings& settings, const std::string& key_file,
                     WorkerPool& workers)
    : settings_(settings),
      workers_(workers),
      sessions_(settings.servers.size(), workers.size()),
      down_until_(settings.servers.size()) {
    context_ = SSL_CTX_new(TLS_client_method());
    if (context_ == nullptr)
        throw std::runtime_error("cannot create a TLS context: " + tls_errors());
    auto fail = [&](const std::string& what) {
        const std::string detail = tls_errors();
        SSL_CTX_free(context_);
        throw std::runtime_error(what + ": " + detail);
    };
    if (SSL_CTX_set_min_proto_version(context_, TLS1_3_VERSION) != 1)
        fail("cannot require TLS 1.3");
    if (SSL_CTX_load_verify_locations(context_, settings.ca_file.c_str(), nullptr) != 1)
        fail("[remote] ca_file " + settings.ca_file);
    if (SSL_CTX_use_certificate_chain_file(context_, settings.certificate_file.c_str()) != 1)
        fail("[remote] certificate_file " + settings.certificate_file);
    if (SSL_CTX_use_PrivateKey_file(context_, key_file.c_str(), SSL_FILETYPE_PEM) != 1)
        fail("the agent's TLS key " + key_file);
    if (SSL_CTX_check_private_key(context_) != 1)
        fail("the TLS key " + key_file + " does not match " + settings.certificate_file);
    SSL_CTX_set_verify(context_, SSL_VERIFY_PEER, nullptr);
}

Forwarder::~Forwarder() {
    SSL_CTX_free(context_);
}

void Forwarder::handle(const Caller& caller, const protocol::Request& request, Reply reply) {
    // A server cannot tell who a nameless uid is: it may act for nobody.
    if (!caller.is_root() && caller.user.empty()) {
        reply(protocol::make_error(protocol::error::PermissionDenied,
                                   {{"message", "your uid has no user name on this host"}}));
        return;
    }
    protocol::json message = {{"method", request.method},
                              {"parameters", request.parameters},
                              {"caller", {{"uid", caller.uid}, {"user", caller.user}}}};
    std::string frame;
    try {
        frame = protocol::encode(message);
    } catch (const std::exception&) {
        reply(protocol::make_error(protocol::error::InvalidParameter,
                                   {{"field", "parameters"},
                                    {"reason", "too large"},
                                    {"message", "the call is too large to forward"}}));
        return;
    }
    // The caller's own timeout (Begin's), less a second to answer in, else [remote] timeout.
    auto budget = std::chrono::seconds(settings_.timeout);
    if (auto t = request.parameters.find("timeout");
        t != request.parameters.end() && t->is_number_unsigned()) {
        const auto seconds = std::min<std::uint64_t>(t->get<std::uint64_t>(), 3600);
        if (seconds > 1) budget = std::chrono::seconds(seconds - 1);
    }
    const auto deadline = Clock::now() + budget;
    workers_.submit([this, frame = std::move(frame), deadline, reply, &workers = workers_] {
        auto answer = forward(frame, deadline);
        workers.to_loop(
            [reply, answer = std::move(answer)]() mutable { reply(std::move(answer)); });
    });
}

protocol::json Forwarder::forward(const std::string& frame, Clock::time_point deadline) {
    std::vector<std::size_t> order;
    const auto now = Clock::now();
    for (std::size_t i = 0; i < settings_.servers.size(); ++i)
        if (!is_down(i, now)) order.push_back(i);
    // Every server failed lately: try them all again rather than give up without asking.
    if (order.empty())
        for (std::size_t i = 0; i < settings_.servers.size(); ++i) order.push_back(i);
    // Whether a server received the whole call: it may have acted on it (a challenge made, a
    // text sent), so "no server" would be a lie that failmode=safe lets in.
    bool delivered = false;
    for (std::size_t i : order) {
        if (Clock::now() >= deadline) break;
        std::string why;
        if (auto answer = exchange(i, frame, deadline, why, delivered)) return std::move(*answer);
        mark_down(i, Clock::now());
        sessions_.clear(i);
        log::warning("a server failed; skipping it for retry_after",
                     {{"server", settings_.servers[i]},
                      {"retry_after", std::to_string(settings_.retry_after)},
                      {"error", why}});
    }
    if (delivered)
        return protocol::make_error(
            protocol::error::InternalError,
            {{"message", "a server took the call and none answered in time; it may have acted"}});
    return protocol::make_error(protocol::error::Unavailable,
                                {{"message", "no twofactord server answered in time"}});
}

std::optional<protocol::json> Forwarder::exchange(std::size_t server, const std::string& frame,
                                                  Clock::time_point deadline, std::string& why,
                                                  bool& delivered) {
    // An open connection first. One that fails before the server has the whole call (it was
    // closed as it was taken, say) says nothing about the server: the next one, or a new one.
    while (auto session = sessions_.take(server)) {
        bool sent = false;
        if (auto answer = call(*session, frame, deadline, why, sent)) {
            sessions_.give(server, std::move(*session));
            return answer;
        }
        if (sent) {
            delivered = true;
            return std::nullopt;
        }
        log::debug("an open connection to a server failed before the call was sent",
                   {{"server", settings_.servers[server]}, {"error", why}});
    }
    TlsSession session;
    if (!open_session(server, deadline, session, why)) return std::nullopt;
    bool sent = false;
    auto answer = call(session, frame, deadline, why, sent);
    delivered = delivered || sent;
    if (answer) sessions_.give(server, std::move(session));
    return answer;
}

bool Forwarder::open_session(std::size_t server, Clock::time_point deadline, TlsSession& session,
                             std::string& why) {
    const auto endpoint = parse_endpoint(settings_.servers[server]);
    if (!endpoint) {
        why = "not HOST:PORT";
        return false;
    }
    session.set_fd(connect_tcp(*endpoint, deadline, why));
    if (session.fd() < 0) return false;
    // Each call is one TLS record written at once: Nagle would only hold the first call behind
    // the unacknowledged end of the handshake until the server's delayed ACK, 40 ms.
    const int one = 1;
    setsockopt(session.fd(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    ERR_clear_error();
    session.set_ssl(SSL_new(context_));
    if (session.ssl() == nullptr || SSL_set_fd(session.ssl(), session.fd()) != 1) {
        why = "cannot start a TLS session: " + tls_errors();
        return false;
    }
    // The server's certificate must name the server as [remote] servers names it.
    const bool by_address = is_ip_address(endpoint->host);
    if (by_address ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(session.ssl()),
                                                   endpoint->host.c_str()) != 1
                   : (SSL_set_tlsext_host_name(session.ssl(), endpoint->host.c_str()) != 1 ||
                      SSL_set1_host(session.ssl(), endpoint->host.c_str()) != 1)) {
        why = "cannot set the name to verify: " + tls_errors();
        return false;
    }
    if (SSL_connect(session.ssl()) != 1) {
        session.mark_broken();
        const long verify = SSL_get_verify_result(session.ssl());
        why = "TLS handshake failed: " + (verify != X509_V_OK
                                              ? std::string(X509_verify_cert_error_string(verify))
                                              : tls_errors());
        return false;
    }
    return true;
}

std::optional<protocol::json> Forwarder::call(TlsSession& session, const std::string& frame,
                                              Clock::time_point deadline, std::string& why,
                                              bool& sent) {
    if (!set_timeouts(session.fd(), deadline)) {
        why = "cannot set the connection's timeouts: " + errno_text(errno);
        return std::nullopt;
    }
    ERR_clear_error();
    for (std::size_t done = 0; done < frame.size();) {
        const int n =
            SSL_write(session.ssl(), frame.data() + done, static_cast<int>(frame.size() - done));
        if (n <= 0) {
            session.mark_broken();
            why = "sending failed: " + tls_errors();
            return std::nullopt;
        }
        done += static_cast<std::size_t>(n);
    }
    sent = true;
    std::string received;
    char buffer[16 * 1024];
    while (received.find('\0') == std::string::npos) {
        if (Clock::now() >= deadline) {
            why = "no answer in time";
            return std::nullopt;
        }
        const int n = SSL_read(session.ssl(), buffer, sizeof(buffer));
        if (n <= 0) {
            const int error = SSL_get_error(session.ssl(), n);
            if (error != SSL_ERROR_ZERO_RETURN) session.mark_broken();
            why = error == SSL_ERROR_ZERO_RETURN
                      ? "the server closed the connection without an answer"
                      : "no answer: " + errno_text(errno);
            return std::nullopt;
        }
        received.append(buffer, static_cast<std::size_t>(n));
        if (received.size() > protocol::kMaxMessage) {
            why = "an oversize answer";
            return std::nullopt;
        }
    }
    // One answer per call: bytes after its end would be taken for the next call's answer.
    const auto end = received.find('\0');
    if (end + 1 != received.size()) session.mark_broken();
    auto answer = protocol::json::parse(received.substr(0, end), nullptr, false);
    if (!answer.is_object()) {
        why = "a malformed answer";
        return std::nullopt;
    }
    return answer;
}

bool Forwarder::is_down(std::size_t server, Clock::time_point now) {
    std::lock_guard lock(mutex_);
    return down_until_[server] > now;
}

void Forwarder::mark_down(std::size_t server, Clock::time_point now) {
    std::lock_guard lock(mutex_);
    down_until_[server] = now + std::chrono::seconds(settings_.retry_after);
}

}  // namespace twofactor
