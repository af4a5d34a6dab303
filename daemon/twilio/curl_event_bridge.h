// SPDX-License-Identifier: BSD-2-Clause
// Runs a libcurl multi handle on an sd-event loop: curl says which sockets to watch and when its
// single timeout expires, the loop tells curl when either fires, and finished transfers are
// handed back. Nothing here blocks; every transfer progresses from loop events only.
#pragma once

#include <curl/curl.h>

#include <cstdint>
#include <functional>
#include <unordered_map>

typedef struct sd_event sd_event;
typedef struct sd_event_source sd_event_source;

namespace twofactor {

class CurlEventBridge {
public:
    // Called from the loop with a transfer that has finished (already taken off the multi
    // handle; the caller owns the easy handle again). It may add or remove other transfers.
    using Finished = std::function<void(CURL* easy, CURLcode result)>;

    // Throws std::runtime_error if curl or sd-event cannot set up.
    CurlEventBridge(sd_event* loop, Finished on_finished);
    ~CurlEventBridge();
    CurlEventBridge(const CurlEventBridge&) = delete;
    CurlEventBridge& operator=(const CurlEventBridge&) = delete;

    // Starts a transfer. Never reports completion from inside this call.
    CURLMcode add(CURL* easy);
    // Stops a transfer without reporting it; the caller still owns and cleans up `easy`.
    void remove(CURL* easy);

private:
    static int on_socket_change(CURL* easy, curl_socket_t fd, int what, void* self, void*);
    static int on_timer_change(CURLM* multi, long timeout_ms, void* self);
    static int on_socket_ready(sd_event_source* source, int fd, uint32_t revents, void* self);
    static int on_timer_expired(sd_event_source* source, uint64_t usec, void* self);

    int watch_socket(curl_socket_t fd, int what);
    int arm_timer(long timeout_ms);
    void act(curl_socket_t fd, int events);
    void hand_back_finished();

    sd_event* loop_;
    Finished on_finished_;
    CURLM* multi_ = nullptr;
    sd_event_source* timer_ = nullptr;
    std::unordered_map<curl_socket_t, sd_event_source*> sockets_;
};

}  // namespace twofactor
