// SPDX-License-Identifier: BSD-2-Clause
// A blocking client for the daemon's socket, with one deadline per call. Used by the PAM module
// (inside someone else's process: the fd sits above 0-2, CLOEXEC) and by twofactorctl.
#pragma once

#include <chrono>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include "common/protocol.h"

namespace twofactor {

// The daemon could not be reached or did not answer in time (twofactorctl exits 69; the PAM
// module applies failmode).
class Unreachable : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// The socket answers, but from a uid that is neither root nor the daemon's user: not an outage
// (failmode=safe never lets it through) but someone pretending to be the daemon.
class Impostor : public Unreachable {
public:
    using Unreachable::Unreachable;
};

struct CallResult {
    std::string error;          // empty on success, else "io.twofactor.NAME"
    protocol::json parameters;  // reply or error parameters (an object)
    bool ok() const { return error.empty(); }
};

class Client {
public:
    // Connects with a deadline of `timeout`, waiting while the daemon's queue of connections is
    // full (it is busy; Unreachable when it stays full). The peer must run as root or as the
    // daemon's user (paths::kDaemonUser, looked up with getpwnam_r), checked with SO_PEERCRED;
    // anyone else is an Impostor("socket PATH is served by uid N, not root or the daemon's user").
    Client(const std::string& socket_path, std::chrono::milliseconds timeout);
    ~Client();
    Client(const Client&) = delete;
    Client& operator=(const Client&) = delete;

    // One call; each call gets the full timeout. Throws Unreachable on timeout, EOF, a
    // malformed or oversize reply.
    CallResult call(std::string_view method, const protocol::json& parameters);

private:
    int fd_ = -1;
    std::string path_;
    std::chrono::milliseconds timeout_;
};

}  // namespace twofactor
