// SPDX-License-Identifier: BSD-2-Clause
// An agent's look-up of a server's name with a deadline. getaddrinfo() has none of its own: a DNS
// server that does not answer holds it for resolv.conf's timeout times attempts times servers
// (10 s and more), past the caller's timeout. Here it runs on a thread of its own; a caller whose
// deadline passes gets its error and leaves the look-up behind. Callers asking for a name whose
// look-up is still running wait for that one instead of starting another, so a hung DNS holds
// one thread per name, never one per call. Nothing is cached once a look-up ends: each call sees
// the name as DNS gives it then, as before.
#pragma once

#include <sys/socket.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace twofactor {

struct ResolvedAddress {
    int family = 0;
    int socktype = 0;
    int protocol = 0;
    sockaddr_storage address{};
    socklen_t length = 0;
};

// The TCP addresses of host:port (a numeric port), in getaddrinfo's order; nullopt with `why`
// set when the name does not resolve or the look-up has not ended by `deadline`. Thread-safe.
std::optional<std::vector<ResolvedAddress>> resolve_tcp(
    const std::string& host, const std::string& port,
    std::chrono::steady_clock::time_point deadline, std::string& why);

}  // namespace twofactor
