// SPDX-License-Identifier: BSD-2-Clause
// A connection's bytes through TLS (OpenSSL, non-blocking), once the handshake is done. Shared by
// the server's connections from login hosts and the agent's connections to its servers.
#pragma once

#include <openssl/ssl.h>

#include <string>

#include "daemon/runtime/channel.h"

namespace twofactor {

class TlsChannel final : public Channel {
public:
    explicit TlsChannel(SSL* ssl) : ssl_(ssl) {}  // takes the session
    ~TlsChannel() override;
    TlsChannel(const TlsChannel&) = delete;
    TlsChannel& operator=(const TlsChannel&) = delete;

    ssize_t receive(char* buffer, std::size_t size) override;
    ssize_t transmit(const char* buffer, std::size_t size) override;
    bool holds_input() const override { return SSL_pending(ssl_) > 0; }

private:
    SSL* ssl_;
};

// The name a peer's certificate gives: its first DNS subjectAltName, else its common name;
// lower-case; empty when it has neither.
std::string certificate_host_name(X509* certificate);

// OpenSSL's queued errors as one line (and the queue emptied).
std::string tls_errors();

}  // namespace twofactor
