// SPDX-License-Identifier: BSD-2-Clause
#include "daemon/twilio/curl_event_bridge.h"

#include <sys/epoll.h>
#include <systemd/sd-event.h>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <utility>

namespace twofactor {
namespace {

// sd-event's default timer accuracy is 250 ms, far too coarse for curl's timeouts.
constexpr uint64_t kTimerAccuracyUsec = 1000;

// Ahead of the clients' connections. sd-event dispatches one source per iteration, oldest
// pending first among equals: at the same priority, when 64 logins arrive together, curl's
// 0 ms timer waits behind all 64 Begin requests, and no text leaves until the last one has
// been read (40 ms in the benchmark). Ahead of them, each text leaves right after its Begin.
constexpr int64_t kCurlPriority = SD_EVENT_PRIORITY_IMPORTANT;

uint32_t epoll_events_for(int what) {
    uint32_t events = 0;
    if (what == CURL_POLL_IN || what == CURL_POLL_INOUT) events |= EPOLLIN;
    if (what == CURL_POLL_OUT || what == CURL_POLL_INOUT) events |= EPOLLOUT;
    return events;
}

}  // namespace

CurlEventBridge::CurlEventBridge(sd_event* loop, Finished on_finished)
    : loop_(sd_event_ref(loop)), on_finished_(std::move(on_finished)) {
    multi_ = curl_multi_init();
    if (multi_ == nullptr) {
        sd_event_unref(loop_);
        throw std::runtime_error("curl_multi_init failed");
    }
    curl_multi_setopt(multi_, CURLMOPT_SOCKETFUNCTION, &CurlEventBridge::on_socket_change);
    curl_multi_setopt(multi_, CURLMOPT_SOCKETDATA, this);
    curl_multi_setopt(multi_, CURLMOPT_TIMERFUNCTION, &CurlEventBridge::on_timer_change);
    curl_multi_setopt(multi_, CURLMOPT_TIMERDATA, this);
}

CurlEventBridge::~CurlEventBridge() {
    // Cleanup may still call on_socket_change (closing cached connections), so the sources are
    // released only afterwards.
    curl_multi_cleanup(multi_);
    for (auto& [fd, source] : sockets_) sd_event_source_disable_unref(source);
    sockets_.clear();
    sd_event_source_disable_unref(timer_);
    sd_event_unref(loop_);
}

CURLMcode CurlEventBridge::add(CURL* easy) {
    return curl_multi_add_handle(multi_, easy);
}

void CurlEventBridge::remove(CURL* easy) {
    curl_multi_remove_handle(multi_, easy);
}

int CurlEventBridge::on_socket_change(CURL*, curl_socket_t fd, int what, void* self, void*) {
    return static_cast<CurlEventBridge*>(self)->watch_socket(fd, what);
}

int CurlEventBridge::watch_socket(curl_socket_t fd, int what) {
    auto found = sockets_.find(fd);
    if (what == CURL_POLL_REMOVE) {
        // curl calls this before it closes the socket, so the fd number cannot have been reused.
        if (found != sockets_.end()) {
            sd_event_source_disable_unref(found->second);
            sockets_.erase(found);
        }
        return 0;
    }
    uint32_t events = epoll_events_for(what);
    if (found != sockets_.end()) {
        return sd_event_source_set_io_events(found->second, events) < 0 ? -1 : 0;
    }
    sd_event_source* source = nullptr;
    if (sd_event_add_io(loop_, &source, fd, events, &CurlEventBridge::on_socket_ready, this) < 0) {
        return -1;  // curl fails this transfer, which then reports a network error
    }
    (void)sd_event_source_set_description(source, "twilio-curl-socket");  // names it for debugging
    if (sd_event_source_set_priority(source, kCurlPriority) < 0) {
        sd_event_source_disable_unref(source);
        return -1;
    }
    sockets_.emplace(fd, source);
    return 0;
}

int CurlEventBridge::on_timer_change(CURLM*, long timeout_ms, void* self) {
    return static_cast<CurlEventBridge*>(self)->arm_timer(timeout_ms);
}

int CurlEventBridge::arm_timer(long timeout_ms) {
    if (timeout_ms < 0) {
        if (timer_ != nullptr && sd_event_source_set_enabled(timer_, SD_EVENT_OFF) < 0) return -1;
        return 0;
    }
    // curl must not be re-entered from here, so even a 0 ms timeout goes through the loop.
    uint64_t usec = static_cast<uint64_t>(timeout_ms) * 1000;
    if (timer_ == nullptr) {
        if (sd_event_add_time_relative(loop_, &timer_, CLOCK_MONOTONIC, usec, kTimerAccuracyUsec,
                                       &CurlEventBridge::on_timer_expired, this) < 0) {
            timer_ = nullptr;
            return -1;
        }
        (void)sd_event_source_set_description(timer_, "twilio-curl-timer");
        if (sd_event_source_set_priority(timer_, kCurlPriority) < 0) return -1;
    } else if (sd_event_source_set_time_relative(timer_, usec) < 0) {
        return -1;
    }
    return sd_event_source_set_enabled(timer_, SD_EVENT_ONESHOT) < 0 ? -1 : 0;
}

int CurlEventBridge::on_socket_ready(sd_event_source*, int fd, uint32_t revents, void* self) {
    int events = 0;
    if (revents & EPOLLIN) events |= CURL_CSELECT_IN;
    if (revents & EPOLLOUT) events |= CURL_CSELECT_OUT;
    if (revents & (EPOLLERR | EPOLLHUP)) events |= CURL_CSELECT_ERR;
    static_cast<CurlEventBridge*>(self)->act(fd, events);
    return 0;
}

int CurlEventBridge::on_timer_expired(sd_event_source*, uint64_t, void* self) {
    static_cast<CurlEventBridge*>(self)->act(CURL_SOCKET_TIMEOUT, 0);
    return 0;
}

void CurlEventBridge::act(curl_socket_t fd, int events) {
    int running = 0;
    curl_multi_socket_action(multi_, fd, events, &running);
    hand_back_finished();
}

void CurlEventBridge::hand_back_finished() {
    int queued = 0;
    while (CURLMsg* message = curl_multi_info_read(multi_, &queued)) {
        if (message->msg != CURLMSG_DONE) continue;
        CURL* easy = message->easy_handle;
        CURLcode result = message->data.result;
        // `message` is invalid once the handle is removed: read it first.
        curl_multi_remove_handle(multi_, easy);
        on_finished_(easy, result);
    }
}

}  // namespace twofactor
