// SPDX-License-Identifier: BSD-2-Clause
#include "daemon/runtime/dispatcher.h"

#include <systemd/sd-event.h>

#include <algorithm>
#include <memory>
#include <stdexcept>

#include "common/errno_text.h"
#include "daemon/log/log.h"

namespace twofactor {
namespace {

// Answers reach the caller this much before the deadline it named, so that it reads them.
constexpr auto kCallerMargin = std::chrono::milliseconds(500);

// The timer's userdata: which service and which call.
struct TimerTag {
    Dispatcher* service;
    std::uint64_t id;
};

}  // namespace

Dispatcher::Dispatcher(sd_event* loop, WorkerPool& workers, Service& service,
                       std::chrono::milliseconds store_timeout,
                       std::chrono::milliseconds longest_call)
    : loop_(loop),
      workers_(workers),
      service_(service),
      store_timeout_(store_timeout),
      longest_call_(longest_call),
      self_(std::make_shared<Dispatcher*>(this)) {}

Dispatcher::~Dispatcher() {
    self_.reset();
    for (auto& [id, pending] : pending_) disarm(pending);
    // The callers' replies left in pending_ answer InternalError as they go.
}

void Dispatcher::handle(const Caller& caller, const protocol::Request& request, Reply reply) {
    const std::uint64_t id = next_id_++;
    const auto now = std::chrono::steady_clock::now();
    // A caller that says how long it waits (the PAM module) hears the answer before it stops.
    auto caller_deadline = now + longest_call_;
    if (auto it = request.parameters.find("timeout");
        it != request.parameters.end() && it->is_number_integer()) {
        const auto seconds = it->get<std::int64_t>();
        if (seconds >= 1 && seconds <= 3600)
            caller_deadline = now + std::chrono::seconds(seconds) - kCallerMargin;
    }
    Pending& pending =
        pending_.emplace(id, Pending{std::move(reply), {}, nullptr, caller_deadline}).first->second;
    std::weak_ptr<Dispatcher*> weak = self_;
    Reply for_service([weak, id](protocol::json message) {
        auto self = weak.lock();
        if (!self) return;  // shut down
        Dispatcher* dispatcher = *self;
        dispatcher->workers_.to_loop([dispatcher, id, message = std::move(message)]() mutable {
            dispatcher->finish(id, std::move(message));
        });
    });
    pending.service = for_service.watch();
    if (!arm(id, pending, now + store_timeout_)) {
        pending_.erase(id);  // its reply answers InternalError
        return;
    }
    workers_.submit([this, id, caller, request, for_service] {
        // Answered Unavailable already: running it now would act (text, use a step) for a
        // caller who has gone.
        if (for_service.answered()) return;
        service_.handle(caller, request, for_service);
        // The store's part is done; what is left (a text on its way) runs on Twilio's own
        // deadline, which the store's timeout must not cut short.
        workers_.to_loop([this, id] { store_part_done(id); });
    });
}

bool Dispatcher::arm(std::uint64_t id, Pending& pending, std::chrono::steady_clock::time_point at) {
    disarm(pending);
    const auto left = std::max(at - std::chrono::steady_clock::now(),
                               std::chrono::steady_clock::duration::zero());
    const auto usec =
        static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(left).count());
    auto* tag = new TimerTag{this, id};
    int r = sd_event_add_time_relative(loop_, &pending.timer, CLOCK_MONOTONIC, usec, 0,
                                       &Dispatcher::on_timeout, tag);
    if (r < 0) {
        delete tag;
        pending.timer = nullptr;
        log::error("cannot arm a call's timer", {{"error", errno_text(-r)}});
        return false;
    }
    return true;
}

void Dispatcher::disarm(Pending& pending) {
    if (pending.timer == nullptr) return;
    delete static_cast<TimerTag*>(sd_event_source_get_userdata(pending.timer));
    sd_event_source_disable_unref(pending.timer);
    pending.timer = nullptr;
}

void Dispatcher::store_part_done(std::uint64_t id) {
    auto it = pending_.find(id);
    if (it == pending_.end()) return;  // answered
    // An unanswered call with no way left to answer it (its timer cannot be armed) must not
    // hold its caller: the caller's reply answers InternalError as it goes.
    if (!arm(id, it->second, it->second.caller_deadline)) pending_.erase(it);
}

void Dispatcher::housekeeping() {
    workers_.submit([this] {
        try {
            service_.housekeeping();
        } catch (const std::exception& e) {
            log::error("housekeeping failed", {{"error", e.what()}});
        }
    });
}

void Dispatcher::finish(std::uint64_t id, protocol::json message) {
    auto it = pending_.find(id);
    if (it == pending_.end()) return;
    Reply reply = std::move(it->second.reply);
    disarm(it->second);
    pending_.erase(it);
    reply(std::move(message));
}

int Dispatcher::on_timeout(sd_event_source*, uint64_t, void* userdata) {
    const auto tag = *static_cast<TimerTag*>(userdata);
    auto it = tag.service->pending_.find(tag.id);
    if (it == tag.service->pending_.end()) return 0;
    log::warning("a call did not finish in time; answering it");
    // Answers through the service's reply (so that the service, if still running, acts no
    // more); its answer reaches finish() through the loop.
    if (!it->second.service.time_out()) {
        // The service answered already and its answer is on its way to the loop; or its reply
        // is gone: then nothing else will answer.
        tag.service->disarm(it->second);
    }
    return 0;
}

}  // namespace twofactor
