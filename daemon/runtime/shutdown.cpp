// SPDX-License-Identifier: BSD-2-Clause
#include "daemon/runtime/shutdown.h"

#include <sys/signalfd.h>
#include <systemd/sd-daemon.h>
#include <systemd/sd-event.h>

#include <csignal>
#include <stdexcept>
#include <string>

#include "common/errno_text.h"
#include "daemon/log/log.h"
#include "daemon/runtime/server.h"
#include "daemon/runtime/tls_listener.h"

namespace twofactor {
namespace {

// How often a stopping daemon looks whether its last connection has closed.
constexpr uint64_t kTickUsec = 20'000;

}  // namespace

Shutdown::Shutdown(sd_event* loop, std::vector<Server*> servers, TlsListener* tls,
                   std::chrono::milliseconds bound)
    : loop_(loop), servers_(std::move(servers)), tls_(tls), bound_(bound) {
    int r = sd_event_add_signal(loop_, &term_, SIGTERM, &Shutdown::on_signal, this);
    if (r < 0) throw std::runtime_error("cannot watch SIGTERM: " + errno_text(-r));
    r = sd_event_add_signal(loop_, &interrupt_, SIGINT, &Shutdown::on_signal, this);
    if (r < 0) {
        sd_event_source_disable_unref(term_);
        throw std::runtime_error("cannot watch SIGINT: " + errno_text(-r));
    }
}

Shutdown::~Shutdown() {
    sd_event_source_disable_unref(tick_);
    sd_event_source_disable_unref(interrupt_);
    sd_event_source_disable_unref(term_);
}

int Shutdown::on_signal(sd_event_source*, const signalfd_siginfo* info, void* userdata) {
    auto* self = static_cast<Shutdown*>(userdata);
    if (self->stopping_) {
        log::notice("stopping now: a second signal");
        self->exit();
        return 0;
    }
    log::notice(info->ssi_signo == SIGTERM ? "stopping on SIGTERM" : "stopping on SIGINT");
    sd_notify(0, "STOPPING=1");
    self->begin();
    return 0;
}

void Shutdown::begin() {
    stopping_ = true;
    give_up_at_ = std::chrono::steady_clock::now() + bound_;
    if (tls_ != nullptr) tls_->stop_accepting();
    for (Server* server : servers_) server->drain();
    if (drained()) return exit();
    const int r = sd_event_add_time_relative(loop_, &tick_, CLOCK_MONOTONIC, kTickUsec, 0,
                                             &Shutdown::on_tick, this);
    if (r < 0) {
        log::error("cannot wait for the calls in flight", {{"error", errno_text(-r)}});
        exit();
    }
}

int Shutdown::on_tick(sd_event_source* source, uint64_t, void* userdata) {
    auto* self = static_cast<Shutdown*>(userdata);
    if (self->drained()) {
        self->exit();
        return 0;
    }
    if (std::chrono::steady_clock::now() >= self->give_up_at_) {
        log::warning("stopping with calls still in flight",
                     {{"after_ms", std::to_string(self->bound_.count())}});
        self->exit();
        return 0;
    }
    int r = sd_event_source_set_time_relative(source, kTickUsec);
    if (r >= 0) r = sd_event_source_set_enabled(source, SD_EVENT_ONESHOT);
    if (r < 0) self->exit();
    return 0;
}

bool Shutdown::drained() const {
    for (const Server* server : servers_)
        if (server->open_connections() > 0) return false;
    return true;
}

void Shutdown::exit() {
    const int r = sd_event_exit(loop_, 0);
    if (r < 0) log::error("cannot stop the event loop", {{"error", errno_text(-r)}});
}

}  // namespace twofactor
