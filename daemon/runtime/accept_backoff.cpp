// SPDX-License-Identifier: BSD-2-Clause
#include "daemon/runtime/accept_backoff.h"

#include <systemd/sd-event.h>
#include <time.h>

#include <cerrno>

#include "common/errno_text.h"
#include "daemon/log/log.h"

namespace twofactor {
namespace {

constexpr std::uint64_t kPauseUsec = 100 * 1000;
constexpr std::uint64_t kLogEveryUsec = 10 * 1000 * 1000;

std::uint64_t monotonic_usec() {
    timespec now{};
    clock_gettime(CLOCK_MONOTONIC, &now);
    return static_cast<std::uint64_t>(now.tv_sec) * 1000000ULL +
           static_cast<std::uint64_t>(now.tv_nsec) / 1000ULL;
}

}  // namespace

AcceptBackoff::~AcceptBackoff() {
    sd_event_source_disable_unref(timer_);
}

bool AcceptBackoff::is_exhaustion(int error) {
    return error == EMFILE || error == ENFILE || error == ENOBUFS || error == ENOMEM;
}

bool AcceptBackoff::pause(int error, sd_event_source* source) {
    if (!is_exhaustion(error)) return false;
    ++pauses_;
    const std::uint64_t now = monotonic_usec();
    if (last_logged_usec_ == 0 || now - last_logged_usec_ >= kLogEveryUsec) {
        log::warning("cannot accept connections for now; pausing",
                     {{"socket", what_},
                      {"error", errno_text(error)},
                      {"pauses", std::to_string(pauses_)},
                      {"pause_ms", std::to_string(kPauseUsec / 1000)}});
        last_logged_usec_ = now;
        pauses_ = 0;
    }
    int r = sd_event_source_set_enabled(source, SD_EVENT_OFF);
    if (r < 0) return true;  // cannot pause: the next turn tries accept again
    if (timer_ == nullptr)
        r = sd_event_add_time_relative(loop_, &timer_, CLOCK_MONOTONIC, kPauseUsec, 0,
                                       &AcceptBackoff::on_timer, this);
    else if ((r = sd_event_source_set_time_relative(timer_, kPauseUsec)) >= 0)
        r = sd_event_source_set_enabled(timer_, SD_EVENT_ONESHOT);
    if (r < 0) {
        // No timer, no pause: watching the socket again beats never accepting again.
        log::error("cannot schedule accepting again",
                   {{"socket", what_}, {"error", errno_text(-r)}});
        sd_event_source_set_enabled(source, SD_EVENT_ON);
        return true;
    }
    paused_ = source;
    return true;
}

int AcceptBackoff::on_timer(sd_event_source*, std::uint64_t, void* userdata) {
    auto* self = static_cast<AcceptBackoff*>(userdata);
    if (self->paused_ != nullptr) {
        int r = sd_event_source_set_enabled(self->paused_, SD_EVENT_ON);
        if (r < 0)
            log::error("cannot watch a listening socket again",
                       {{"socket", self->what_}, {"error", errno_text(-r)}});
        self->paused_ = nullptr;
    }
    return 0;
}

}  // namespace twofactor
