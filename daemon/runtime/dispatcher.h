// SPDX-License-Identifier: BSD-2-Clause
// The service as the event loop sees it: each call goes to a worker, its answer comes back to
// the loop, and a call whose store work has not ended within the store's timeout is answered
// Unavailable (and skipped if it has not started by then). A text the call sent is waited for on
// Twilio's own deadline, not the store's, and at most until the deadline its caller named.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>

#include "daemon/runtime/worker_pool.h"
#include "daemon/service/reply.h"
#include "daemon/service/service.h"

namespace twofactor {

class Dispatcher {
public:
    // `store_timeout`: how long the store part of a call may take before it is answered
    // Unavailable. `longest_call`: how long a call may wait for Twilio when its caller names no
    // timeout of its own.
    Dispatcher(sd_event* loop, WorkerPool& workers, Service& service,
               std::chrono::milliseconds store_timeout, std::chrono::milliseconds longest_call);
    ~Dispatcher();
    Dispatcher(const Dispatcher&) = delete;
    Dispatcher& operator=(const Dispatcher&) = delete;

    // On the loop. `reply` is answered on the loop, exactly once: by the service, by the
    // timer (Unavailable while the store has not answered; InternalError when the call acted
    // and then did not finish before its caller stops waiting), or by the Reply itself when
    // the service dropped it.
    void handle(const Caller& caller, const protocol::Request& request, Reply reply);
    void housekeeping();

private:
    struct Pending {
        Reply reply;           // the caller's (the connection's)
        Reply::Watch service;  // the one the service holds; the timer answers through it
        sd_event_source* timer = nullptr;
        std::chrono::steady_clock::time_point caller_deadline;
    };
    static int on_timeout(sd_event_source* source, uint64_t usec, void* userdata);
    void finish(std::uint64_t id, protocol::json message);
    // The store part ended: the call may still wait for Twilio, until its caller's deadline.
    void store_part_done(std::uint64_t id);
    bool arm(std::uint64_t id, Pending& pending, std::chrono::steady_clock::time_point at);
    void disarm(Pending& pending);

    sd_event* loop_;
    WorkerPool& workers_;
    Service& service_;
    std::chrono::milliseconds store_timeout_;
    std::chrono::milliseconds longest_call_;
    std::uint64_t next_id_ = 1;
    std::map<std::uint64_t, Pending> pending_;
    // The service's replies answer through this; it is gone with the dispatcher, so a reply
    // destroyed after shutdown (a Twilio transfer dropped last) answers nobody.
    std::shared_ptr<Dispatcher*> self_;
};

}  // namespace twofactor
