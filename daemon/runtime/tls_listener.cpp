// SPDX-License-Identifier: BSD-2-Clause
#include "daemon/runtime/tls_listener.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <systemd/sd-event.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstring>
#include <fstream>
#include <stdexcept>
#include <vector>

#include "common/errno_text.h"
#include "daemon/config/fleet_settings.h"
#include "daemon/log/log.h"
#include "daemon/runtime/tls_channel.h"

namespace twofactor {
namespace {

// Handshakes in progress at once, from all hosts: a flood of half-open connections costs a
// bounded amount of memory and never delays the hosts already admitted.
constexpr std::size_t kMaxHandshakes = 256;
// ... and from one address (one /64 for IPv6, where a host has many): twice what one agent
// opens at once (a connection per call, one call per worker thread). One address flooding the
// port holds an eighth of the room at most; past that its own oldest handshake gives way, so
// that a host behind the same address still gets in past stalled ones.
constexpr std::size_t kMaxHandshakesPerNetwork = 32;
// That is logged at most this often, with the count: an address that floods the port must not
// flood the journal as well.
constexpr auto kCrowdedLogEvery = std::chrono::seconds(10);

std::string peer_address(const sockaddr_storage& address) {
    char text[INET6_ADDRSTRLEN] = {};
    if (address.ss_family == AF_INET)
        inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in&>(address).sin_addr, text,
                  sizeof(text));
    else if (address.ss_family == AF_INET6)
        inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6&>(address).sin6_addr, text,
                  sizeof(text));
    return text;
}

// What handshakes are counted by: the IPv4 address (also when mapped into IPv6), else the
// IPv6 address's /64.
std::string peer_network(const sockaddr_storage& address) {
    if (address.ss_family != AF_INET6) return peer_address(address);
    sockaddr_storage prefix = address;
    auto& six = reinterpret_cast<sockaddr_in6&>(prefix);
    if (IN6_IS_ADDR_V4MAPPED(&six.sin6_addr)) return peer_address(address);
    std::memset(six.sin6_addr.s6_addr + 8, 0, 8);
    return peer_address(prefix) + "/64";
}

// A server holds, besides its Unix clients, up to connections_per_host connections of every
// admitted host and the handshakes above: more than the 1024 descriptors most services start
// with. The soft limit goes up to the hard one (systemd gives 524288), as systemd advises for
// programs that use no select().
void raise_descriptor_limit() {
    rlimit limit{};
    if (getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur >= limit.rlim_max) return;
    const rlim_t before = limit.rlim_cur;
    limit.rlim_cur = limit.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &limit) != 0)
        log::warning("cannot raise the limit of open files",
                     {{"soft", std::to_string(before)},
                      {"hard", std::to_string(limit.rlim_max)},
                      {"error", errno_text(errno)}});
}

SSL_CTX* make_context(const ListenSettings& settings, const std::string& key_file) {
    SSL_CTX* context = SSL_CTX_new(TLS_server_method());
    if (context == nullptr)
        throw std::runtime_error("cannot create a TLS context: " + tls_errors());
    auto fail = [&](const std::string& what) {
        const std::string detail = tls_errors();
        SSL_CTX_free(context);
        throw std::runtime_error(what + ": " + detail);
    };
    if (SSL_CTX_set_min_proto_version(context, TLS1_3_VERSION) != 1) fail("cannot require TLS 1.3");
    if (SSL_CTX_use_certificate_chain_file(context, settings.certificate_file.c_str()) != 1)
        fail("[listen] certificate_file " + settings.certificate_file);
    if (SSL_CTX_use_PrivateKey_file(context, key_file.c_str(), SSL_FILETYPE_PEM) != 1)
        fail("the server's TLS key " + key_file);
    if (SSL_CTX_check_private_key(context) != 1)
        fail("the TLS key " + key_file + " does not match " + settings.certificate_file);
    if (SSL_CTX_load_verify_locations(context, settings.client_ca_file.c_str(), nullptr) != 1)
        fail("[listen] client_ca_file " + settings.client_ca_file);
    // No certificate, or one that does not chain to client_ca_file: the handshake fails.
    SSL_CTX_set_verify(context, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
    SSL_CTX_set_num_tickets(context, 0);
    SSL_CTX_set_session_cache_mode(context, SSL_SESS_CACHE_OFF);
    SSL_CTX_set_mode(context, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    return context;
}

int listen_tcp(const std::string& address) {
    const auto endpoint = parse_endpoint(address);
    if (!endpoint) throw std::runtime_error("[listen] address '" + address + "' is not HOST:PORT");
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    addrinfo* found = nullptr;
    if (int r = getaddrinfo(endpoint->host.c_str(), endpoint->port.c_str(), &hints, &found); r != 0)
        throw std::runtime_error("[listen] address " + address + ": " + gai_strerror(r));
    std::string why = "no address";
    int fd = -1;
    for (addrinfo* a = found; a != nullptr && fd < 0; a = a->ai_next) {
        fd = socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol);
        if (fd < 0) continue;
        int on = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
        if (bind(fd, a->ai_addr, a->ai_addrlen) != 0 || listen(fd, SOMAXCONN) != 0) {
            why = errno_text(errno);
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(found);
    if (fd < 0) throw std::runtime_error("cannot listen on " + address + ": " + why);
    return fd;
}

}  // namespace

std::set<std::string> read_hosts_file(const std::string& path) {
    std::ifstream in(path);
    if (!in) throw std::runtime_error("cannot read the hosts file " + path);
    std::set<std::string> hosts;
    std::string line;
    while (std::getline(in, line)) {
        if (auto hash = line.find('#'); hash != std::string::npos) line.erase(hash);
        const auto first = line.find_first_not_of(" \t\r");
        if (first == std::string::npos) continue;
        line = line.substr(first, line.find_last_not_of(" \t\r") - first + 1);
        std::transform(line.begin(), line.end(), line.begin(),
                       [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
        hosts.insert(line);
    }
    return hosts;
}

struct TlsListener::Handshake {
    TlsListener* listener = nullptr;
    int fd = -1;
    SSL* ssl = nullptr;
    std::string peer;            // the address, for the log
    std::string network;         // what it is counted by (peer_network)
    std::uint64_t sequence = 0;  // the order handshakes began in: the smallest is the oldest
    sd_event_source* io = nullptr;
    sd_event_source* timer = nullptr;

    static int on_io(sd_event_source*, int, uint32_t, void* userdata) {
        auto* self = static_cast<Handshake*>(userdata);
        self->listener->step(self);
        return 0;
    }
    static int on_timeout(sd_event_source*, uint64_t, void* userdata) {
        auto* self = static_cast<Handshake*>(userdata);
        self->listener->log_refusal(self, log::Level::Info,
                                    "closing a TLS handshake that did not finish in time", {});
        self->listener->drop(self);
        return 0;
    }
};

TlsListener::TlsListener(sd_event* loop, const ListenSettings& settings,
                         const std::string& key_file, std::int64_t handshake_timeout_seconds,
                         Server& server)
    : loop_(loop),
      settings_(settings),
      handshake_timeout_(handshake_timeout_seconds),
      server_(server),
      hosts_(read_hosts_file(settings.hosts_file)),
      backoff_(loop, "[listen] address " + settings.address) {
    raise_descriptor_limit();
    context_ = make_context(settings, key_file);
    try {
        fd_ = listen_tcp(settings.address);
    } catch (...) {
        SSL_CTX_free(context_);
        throw;
    }
    int r = sd_event_add_io(loop_, &accept_source_, fd_, EPOLLIN, &TlsListener::on_accept, this);
    if (r < 0) {
        close(fd_);
        SSL_CTX_free(context_);
        throw std::runtime_error("cannot watch " + settings.address + ": " + errno_text(-r));
    }
}

TlsListener::~TlsListener() {
    while (!handshakes_.empty()) drop(handshakes_.begin()->first);
    sd_event_source_disable_unref(accept_source_);
    close(fd_);
    SSL_CTX_free(context_);
}

void TlsListener::stop_accepting() {
    backoff_.stop();
    if (accept_source_ != nullptr) sd_event_source_set_enabled(accept_source_, SD_EVENT_OFF);
    while (!handshakes_.empty()) drop(handshakes_.begin()->first);
}

void TlsListener::reload() {
    std::set<std::string> hosts;
    try {
        hosts = read_hosts_file(settings_.hosts_file);
    } catch (const std::exception& e) {
        log::error("keeping the hosts admitted so far", {{"error", e.what()}});
        return;
    }
    for (const auto& host : hosts_)
        if (!hosts.count(host)) server_.close_host(host);
    hosts_ = std::move(hosts);
    log::notice("reread the hosts file",
                {{"hosts_file", settings_.hosts_file}, {"hosts", std::to_string(hosts_.size())}});
}

int TlsListener::on_accept(sd_event_source*, int fd, uint32_t, void* userdata) {
    auto* self = static_cast<TlsListener*>(userdata);
    for (int i = 0; i < 64; ++i) {
        sockaddr_storage address{};
        socklen_t length = sizeof(address);
        int client = accept4(fd, reinterpret_cast<sockaddr*>(&address), &length,
                             SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (client < 0) {
            const int error = errno;
            if (error == EAGAIN || error == EINTR || error == ECONNABORTED) break;
            // No descriptor left: a handshake that has not finished gives way to the newcomer,
            // else the socket is left alone a moment (watched, it would spin the loop).
            if ((error == EMFILE || error == ENFILE) && self->drop_oldest({})) continue;
            if (!self->backoff_.pause(error, self->accept_source_))
                log::warning("accept failed", {{"error", errno_text(error)}});
            break;
        }
        self->start_handshake(client, peer_address(address), peer_network(address));
    }
    return 0;
}

bool TlsListener::drop_oldest(const std::string& network) {
    Handshake* oldest = nullptr;
    for (const auto& [handshake, keep] : handshakes_)
        if ((network.empty() || handshake->network == network) &&
            (oldest == nullptr || handshake->sequence < oldest->sequence))
            oldest = handshake;
    if (oldest == nullptr) return false;
    log::debug("closing the oldest TLS handshake to make room", {{"peer", oldest->peer}});
    drop(oldest);
    return true;
}

void TlsListener::start_handshake(int fd, const std::string& peer, const std::string& network) {
    if (auto it = handshakes_per_network_.find(network);
        it != handshakes_per_network_.end() && it->second >= kMaxHandshakesPerNetwork) {
        drop_oldest(network);
        ++crowded_;
        const auto now = std::chrono::steady_clock::now();
        if (crowded_ == 1 || now - last_crowded_log_ >= kCrowdedLogEvery) {
            log::warning("too many TLS handshakes from one address: the oldest give way",
                         {{"peer", peer},
                          {"limit", std::to_string(kMaxHandshakesPerNetwork)},
                          {"dropped", std::to_string(crowded_)}});
            last_crowded_log_ = now;
        }
    }
    if (handshakes_.size() >= kMaxHandshakes) drop_oldest({});
    auto handshake = std::make_unique<Handshake>();
    handshake->listener = this;
    handshake->fd = fd;
    handshake->peer = peer;
    handshake->network = network;
    handshake->sequence = ++handshakes_started_;
    handshake->ssl = SSL_new(context_);
    if (handshake->ssl == nullptr || SSL_set_fd(handshake->ssl, fd) != 1) {
        log::error("cannot start a TLS session", {{"peer", peer}, {"error", tls_errors()}});
        SSL_free(handshake->ssl);
        close(fd);
        return;
    }
    SSL_set_accept_state(handshake->ssl);
    int r = sd_event_add_io(loop_, &handshake->io, fd, EPOLLIN, &Handshake::on_io, handshake.get());
    if (r >= 0)
        r = sd_event_add_time_relative(loop_, &handshake->timer, CLOCK_MONOTONIC,
                                       static_cast<uint64_t>(handshake_timeout_) * 1000000ULL, 0,
                                       &Handshake::on_timeout, handshake.get());
    auto* raw = handshake.get();
    handshakes_per_network_[network] += 1;
    handshakes_.emplace(raw, std::move(handshake));
    if (r < 0) {
        log::error("cannot watch a connection", {{"peer", peer}, {"error", errno_text(-r)}});
        drop(raw);
    }
}

void TlsListener::step(Handshake* handshake) {
    ERR_clear_error();
    const int r = SSL_do_handshake(handshake->ssl);
    if (r == 1) {
        finish(handshake);
        return;
    }
    const int error = SSL_get_error(handshake->ssl, r);
    if (error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE) {
        if (sd_event_source_set_io_events(handshake->io,
                                          error == SSL_ERROR_WANT_READ ? EPOLLIN : EPOLLOUT) >= 0)
            return;
    }
    // No certificate, one of another CA, an expired one, plain text: the host is refused.
    const long verify = SSL_get_verify_result(handshake->ssl);
    const std::string errors = tls_errors();  // also empties OpenSSL's queue for the next one
    log_refusal(handshake, log::Level::Warning, "refusing a connection: the TLS handshake failed",
                {{"verify", verify == X509_V_OK ? "ok" : X509_verify_cert_error_string(verify)},
                 {"error", errors}});
    drop(handshake);
}

void TlsListener::finish(Handshake* handshake) {
    X509* certificate = SSL_get1_peer_certificate(handshake->ssl);
    const std::string host = certificate_host_name(certificate);
    X509_free(certificate);
    if (host.empty() || !hosts_.count(host)) {
        log_refusal(handshake, log::Level::Warning, "refusing a host not in the hosts file",
                    {{"host", host}, {"hosts_file", settings_.hosts_file}});
        drop(handshake);
        return;
    }
    SSL* ssl = handshake->ssl;
    const int fd = handshake->fd;
    handshake->ssl = nullptr;
    handshake->fd = -1;
    drop(handshake);
    if (server_.adopt(fd, std::make_unique<TlsChannel>(ssl), host, settings_.connections_per_host))
        log::debug("admitted a host", {{"host", host}});
}

void TlsListener::log_refusal(const Handshake* handshake, log::Level level,
                              std::string_view message, std::initializer_list<log::Field> fields) {
    const auto held = refusals_.admit(handshake->network, RefusalLog::Clock::now());
    if (!held) return;
    const std::string held_text = std::to_string(*held);
    std::vector<log::Field> all{{"peer", handshake->peer}};
    all.insert(all.end(), fields.begin(), fields.end());
    if (*held > 0) all.emplace_back("held_back", held_text);
    log::write(level, message, all);
}

void TlsListener::drop(Handshake* handshake) {
    auto it = handshakes_.find(handshake);
    if (it == handshakes_.end()) return;
    auto keep = std::move(it->second);
    handshakes_.erase(it);
    if (auto count = handshakes_per_network_.find(keep->network);
        count != handshakes_per_network_.end() && --count->second == 0)
        handshakes_per_network_.erase(count);
    sd_event_source_disable_unref(keep->io);
    sd_event_source_disable_unref(keep->timer);
    if (keep->ssl != nullptr) SSL_free(keep->ssl);
    if (keep->fd >= 0) close(keep->fd);
}

}  // namespace twofactor
