// SPDX-License-Identifier: BSD-2-Clause
// The workers: the service's handlers, and with them every database call, run here, off the
// sd-event loop, so a slow or unreachable PostgreSQL never stalls the socket, the
// timers or the Twilio transfers. One thread takes the jobs in order; several (one per PostgreSQL
// connection) take them in order but run them at once. Results come back to the loop through an
// eventfd (to_loop).
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

typedef struct sd_event sd_event;
typedef struct sd_event_source sd_event_source;

namespace twofactor {

class WorkerPool {
public:
    using Job = std::function<void()>;

    // Starts `threads` threads (at least one). Throws std::runtime_error when the eventfd or its
    // source fail.
    explicit WorkerPool(sd_event* loop, int threads = 1);
    // stop(), then closes the eventfd.
    ~WorkerPool();
    // Lets the running jobs finish, drops the queued ones, joins. Idempotent. Call it before
    // what the jobs use is destroyed.
    void stop();
    WorkerPool(const WorkerPool&) = delete;
    WorkerPool& operator=(const WorkerPool&) = delete;

    // How many threads take the jobs: how many run at once.
    std::size_t size() const { return threads_.size(); }

    // From any thread: runs `job` on a worker, started after those submitted before it.
    void submit(Job job);
    // From any thread: runs `job` on the event loop, soon.
    void to_loop(Job job);

private:
    static int on_wake(sd_event_source* source, int fd, uint32_t revents, void* userdata);
    void work();

    std::mutex mutex_;
    std::condition_variable wake_;
    std::deque<Job> jobs_;
    bool stopping_ = false;

    std::mutex back_mutex_;
    std::deque<Job> back_;
    int eventfd_ = -1;
    sd_event_source* source_ = nullptr;

    std::vector<std::thread> threads_;
};

}  // namespace twofactor
