// SPDX-License-Identifier: BSD-2-Clause
// SIGTERM and SIGINT: the daemon stops taking work and finishes what it took. Its sockets stop
// accepting, every connection closes once the call it is serving is answered (calls not yet read
// are never read: an agent sends them to another server), and the loop exits when no connection
// is left, or at `bound` (the longest a call may take). Stopping a server of a fleet
// (systemctl stop, an upgrade) then fails no login in flight.
#pragma once

#include <chrono>
#include <vector>

typedef struct sd_event sd_event;
typedef struct sd_event_source sd_event_source;
struct signalfd_siginfo;

namespace twofactor {

class Server;
class TlsListener;

class Shutdown {
public:
    // The signals must be blocked already (make_loop). `tls` may be null.
    Shutdown(sd_event* loop, std::vector<Server*> servers, TlsListener* tls,
             std::chrono::milliseconds bound);
    ~Shutdown();
    Shutdown(const Shutdown&) = delete;
    Shutdown& operator=(const Shutdown&) = delete;

private:
    static int on_signal(sd_event_source*, const signalfd_siginfo* info, void* userdata);
    static int on_tick(sd_event_source*, uint64_t, void* userdata);
    void begin();
    bool drained() const;
    void exit();

    sd_event* loop_;
    std::vector<Server*> servers_;
    TlsListener* tls_;
    std::chrono::milliseconds bound_;
    std::chrono::steady_clock::time_point give_up_at_;
    bool stopping_ = false;
    sd_event_source* term_ = nullptr;
    sd_event_source* interrupt_ = nullptr;
    sd_event_source* tick_ = nullptr;
};

}  // namespace twofactor
