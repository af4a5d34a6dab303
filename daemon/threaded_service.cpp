// SPDX-License-Identifier: BSD-2-Clause
#include "daemon/threaded_service.h"

#include <systemd/sd-event.h>

#include <memory>
#include <stdexcept>

#include "daemon/log.h"

namespace twofactor {
namespace {

protocol::json unavailable() {
    return protocol::make_error(
        protocol::error::Unavailable,
        {{"message", "the daemon's database did not answer in time; try again"}});
}

// The timer's userdata: which service and which call.
struct TimerTag {
    ThreadedService* service;
    std::uint64_t id;
};

}  // namespace

Messenger::Callback LoopMessenger::on_thread(Callback done) {
    // std::function must be copyable: the callback is shared, not copied.
    auto shared = std::make_shared<Callback>(std::move(done));
    return [this, shared](const SmsResult& result) {
        thread_.submit([shared, result] { (*shared)(result); });
    };
}

void LoopMessenger::send(const std::string& to, SecureString body, TextOptions options,
                         Callback done) {
    auto shared_body = std::make_shared<SecureString>(std::move(body));
    thread_.to_loop([this, to, shared_body, options, done = on_thread(std::move(done))] {
        real_.send(to, std::move(*shared_body), options, done);
    });
}

void LoopMessenger::call(const std::string& to, SecureString twiml, TextOptions options,
                         Callback done) {
    auto shared_twiml = std::make_shared<SecureString>(std::move(twiml));
    thread_.to_loop([this, to, shared_twiml, options, done = on_thread(std::move(done))] {
        real_.call(to, std::move(*shared_twiml), options, done);
    });
}

void LoopMessenger::start_verification(const std::string& to, const std::string& channel,
                                       TextOptions options, Callback done) {
    thread_.to_loop([this, to, channel, options, done = on_thread(std::move(done))] {
        real_.start_verification(to, channel, options, done);
    });
}

void LoopMessenger::check_verification(const std::string& to, SecureString code, Callback done) {
    auto shared_code = std::make_shared<SecureString>(std::move(code));
    thread_.to_loop([this, to, shared_code, done = on_thread(std::move(done))] {
        real_.check_verification(to, std::move(*shared_code), done);
    });
}

ThreadedService::ThreadedService(sd_event* loop, StoreThread& thread, Service& service,
                                 std::chrono::milliseconds timeout)
    : loop_(loop), thread_(thread), service_(service), timeout_(timeout) {}

ThreadedService::~ThreadedService() {
    for (auto& [id, pending] : pending_) {
        if (pending.timer == nullptr) continue;
        delete static_cast<TimerTag*>(sd_event_source_get_userdata(pending.timer));
        sd_event_source_disable_unref(pending.timer);
    }
}

void ThreadedService::handle(const Caller& caller, const protocol::Request& request,
                             Service::Respond respond) {
    const std::uint64_t id = next_id_++;
    Pending& pending = pending_[id];
    pending.respond = std::move(respond);
    auto* tag = new TimerTag{this, id};
    const auto usec = static_cast<uint64_t>(
        std::chrono::duration_cast<std::chrono::microseconds>(timeout_).count());
    if (sd_event_add_time_relative(loop_, &pending.timer, CLOCK_MONOTONIC, usec, 0,
                                   &ThreadedService::on_timeout, tag) < 0) {
        delete tag;
        pending_.erase(id);
        throw std::runtime_error("cannot arm a call's timer");
    }

    const auto deadline = std::chrono::steady_clock::now() + timeout_;
    thread_.submit([this, id, caller, request, deadline] {
        // Answered Unavailable already: running it now would act (text, use a step) for a
        // caller who has gone.
        if (std::chrono::steady_clock::now() >= deadline) return;
        service_.handle(caller, request, [this, id](protocol::json message) {
            thread_.to_loop([this, id, message = std::move(message)]() mutable {
                finish(id, std::move(message));
            });
        });
        // The store's part is done; what is left (a text on its way) runs on Twilio's own
        // deadline, which the store's timeout must not cut short.
        thread_.to_loop([this, id] { disarm(id); });
    });
}

void ThreadedService::disarm(std::uint64_t id) {
    auto it = pending_.find(id);
    if (it == pending_.end() || it->second.timer == nullptr) return;
    delete static_cast<TimerTag*>(sd_event_source_get_userdata(it->second.timer));
    sd_event_source_disable_unref(it->second.timer);
    it->second.timer = nullptr;
}

void ThreadedService::housekeeping() {
    thread_.submit([this] {
        try {
            service_.housekeeping();
        } catch (const std::exception& e) {
            log::error("housekeeping failed", {{"error", e.what()}});
        }
    });
}

void ThreadedService::finish(std::uint64_t id, protocol::json message) {
    auto it = pending_.find(id);
    if (it == pending_.end()) return;  // already answered Unavailable
    Service::Respond respond = std::move(it->second.respond);
    disarm(id);
    pending_.erase(it);
    respond(std::move(message));
}

int ThreadedService::on_timeout(sd_event_source*, uint64_t, void* userdata) {
    const auto tag = *static_cast<TimerTag*>(userdata);
    log::warning("the store did not answer a call in time; answering Unavailable");
    tag.service->finish(tag.id, unavailable());
    return 0;
}

}  // namespace twofactor
