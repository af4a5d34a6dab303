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

#include "daemon/messenger.h"
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
    ThreadedService(sd_event* loop, StoreThread& thread, Service& service,
                    std::chrono::milliseconds timeout);
    ~ThreadedService();
    ThreadedService(const ThreadedService&) = delete;
    ThreadedService& operator=(const ThreadedService&) = delete;

    // On the loop; `respond` runs on the loop, exactly once.
    void handle(const Caller& caller, const protocol::Request& request, Service::Respond respond);
    void housekeeping();

private:
    struct Pending {
        Service::Respond respond;
        sd_event_source* timer = nullptr;  // null once the store's part is done
    };
    static int on_timeout(sd_event_source* source, uint64_t usec, void* userdata);
    void finish(std::uint64_t id, protocol::json message);
    void disarm(std::uint64_t id);

    sd_event* loop_;
    StoreThread& thread_;
    Service& service_;
    std::chrono::milliseconds timeout_;
    std::uint64_t next_id_ = 1;
    std::map<std::uint64_t, Pending> pending_;
};

}  // namespace twofactor
