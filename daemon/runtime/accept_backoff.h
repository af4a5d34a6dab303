// SPDX-License-Identifier: BSD-2-Clause
// A listening socket's watch, paused for a moment when accept() finds no file descriptor or no
// memory left (EMFILE, ENFILE, ENOBUFS, ENOMEM). The socket stays readable while connections
// wait, so watching it on would spin the loop at full speed and write a log line each turn until
// a descriptor is freed; paused, the connections wait in the kernel's queue and the loop serves
// the ones it holds (whose ends and timeouts free descriptors). Used on the loop only.
#pragma once

#include <cstdint>
#include <string>
#include <utility>

typedef struct sd_event sd_event;
typedef struct sd_event_source sd_event_source;

namespace twofactor {

class AcceptBackoff {
public:
    // `what` names the socket in the log ("the Unix socket", "[listen] address").
    AcceptBackoff(sd_event* loop, std::string what) : loop_(loop), what_(std::move(what)) {}
    ~AcceptBackoff();
    AcceptBackoff(const AcceptBackoff&) = delete;
    AcceptBackoff& operator=(const AcceptBackoff&) = delete;

    // Whether `error` (accept's errno) is a lack of resources; if so, `source` is switched off
    // and back on after a moment. Says so in the log at most every ten seconds.
    static bool is_exhaustion(int error);
    bool pause(int error, sd_event_source* source);
    // The socket stops for good (the daemon is stopping): a pause ends without watching it again.
    void stop() { paused_ = nullptr; }

private:
    static int on_timer(sd_event_source*, std::uint64_t, void* userdata);

    sd_event* loop_;
    std::string what_;
    sd_event_source* timer_ = nullptr;
    sd_event_source* paused_ = nullptr;
    std::uint64_t pauses_ = 0;            // since the last log line
    std::uint64_t last_logged_usec_ = 0;  // CLOCK_MONOTONIC
};

}  // namespace twofactor
