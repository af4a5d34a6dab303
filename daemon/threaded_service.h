// SPDX-License-Identifier: BSD-2-Clause
// The service as the event loop sees it: each call goes to a store thread, its answer comes
// back to the loop, and a call whose store work has not ended within the store's timeout is
// answered Unavailable (and skipped if it has not started by then). A text the call sent is
// waited for on Twilio's own deadline, not the store's. Texts the service sends from
// a store thread leave through the loop's Messenger, and their results come back the same way.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>

#include "daemon/messenger.h"
#include "daemon/reply.h"
#include "daemon/service.h"
#include "daemon/store_thread.h"

namespace twofactor {

// A Messenger for the store threads: sends on the loop through `real`, reports on a store thread.
class LoopMessenger final : public Messenger {
public:
    LoopMessenger(StoreThread& thread, Messenger& real) : thread_(thread), real_(real) {}
    using Messenger::send;
    void send(const std::string& to, SecureString body, TextOptions options,
              Callback done) override;
    void call(const std::string& to, SecureString twiml, TextOptions options,
              Callback done) override;
    void start_verification(const std::string& to, const std::string& channel, TextOptions options,
                            Callback done) override;
    void check_verification(const std::string& to, SecureString code, Callback done) override;

private:
    // `done` wrapped so that it runs on a store thread, whichever thread reports.
    Callback on_thread(Callback done);

    StoreThread& thread_;
    Messenger& real_;
};

class ThreadedService {
public:
    // `store_timeout`: how long the store part of a call may take before it is answered
    // Unavailable. `longest_call`: how long a call may wait for Twilio when its caller names no
    // timeout of its own.
    ThreadedService(sd_event* loop, StoreThread& thread, Service& service,
                    std::chrono::milliseconds store_timeout,
                    std::chrono::milliseconds longest_call);
    ~ThreadedService();
    ThreadedService(const ThreadedService&) = delete;
    ThreadedService& operator=(const ThreadedService&) = delete;

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
    StoreThread& thread_;
    Service& service_;
    std::chrono::milliseconds store_timeout_;
    std::chrono::milliseconds longest_call_;
    std::uint64_t next_id_ = 1;
    std::map<std::uint64_t, Pending> pending_;
    // The service's replies answer through this; it is gone with the dispatcher, so a reply
    // destroyed after shutdown (a Twilio transfer dropped last) answers nobody.
    std::shared_ptr<ThreadedService*> self_;
};

}  // namespace twofactor
