// SPDX-License-Identifier: BSD-2-Clause
// An agent's one job: each call on its Unix socket goes over mutual TLS 1.3 to the first healthy
// server of [remote] servers, with the caller (uid, and user unless root) beside it, and the
// server's answer comes back as it is. A transport failure (refused, reset, a TLS error, no
// answer in time) marks that server down for retry_after and the call goes to the next; an
// answer, a refusal included, is final. No server in time: Unavailable. The agent holds no store,
// no data key and no Twilio credentials.
//
// Each call runs on a worker thread on one blocking TLS connection with a deadline, so that a
// slow server never stalls the loop or the other calls. Connections are kept open between calls
// (session_pool.h): a call takes an idle one to its server, or opens a new one.
#pragma once

#include <openssl/ssl.h>

#include <chrono>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "daemon/config/settings.h"
#include "daemon/runtime/session_pool.h"
#include "daemon/runtime/worker_pool.h"
#include "daemon/service/reply.h"
#include "daemon/service/service.h"

namespace twofactor {

class Forwarder {
public:
    // `key_file`: the agent's key (the credential's path or [remote] key_file). Throws
    // std::runtime_error naming the file OpenSSL refused.
    Forwarder(const RemoteSettings& settings, const std::string& key_file, WorkerPool& workers);
    ~Forwarder();
    Forwarder(const Forwarder&) = delete;
    Forwarder& operator=(const Forwarder&) = delete;

    // On the loop; `reply` is answered on the loop.
    void handle(const Caller& caller, const protocol::Request& request, Reply reply);

private:
    using Clock = std::chrono::steady_clock;
    // On a worker: the answer of the first server that gives one, or Unavailable.
    protocol::json forward(const std::string& frame, Clock::time_point deadline);
    // One try at one server: its answer, or nullopt with `why`. `delivered` becomes true once
    // the server has received the whole call.
    std::optional<protocol::json> exchange(std::size_t server, const std::string& frame,
                                           Clock::time_point deadline, std::string& why,
                                           bool& delivered);
    // A new connection to `server`, its certificate and name verified; false with `why`.
    bool open_session(std::size_t server, Clock::time_point deadline, TlsSession& session,
                      std::string& why);
    // The call on `session` and its answer, or nullopt with `why`; `sent` becomes true once the
    // whole call was written.
    static std::optional<protocol::json> call(TlsSession& session, const std::string& frame,
                                              Clock::time_point deadline, std::string& why,
                                              bool& sent);
    bool is_down(std::size_t server, Clock::time_point now);
    void mark_down(std::size_t server, Clock::time_point now);

    const RemoteSettings& settings_;
    WorkerPool& workers_;
    SSL_CTX* context_ = nullptr;
    SessionPool sessions_;
    std::mutex mutex_;
    std::vector<Clock::time_point> down_until_;
};

}  // namespace twofactor
