// SPDX-License-Identifier: BSD-2-Clause
#include "daemon/runtime/worker_pool.h"

#include <sys/eventfd.h>
#include <systemd/sd-event.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <stdexcept>
#include <string>

#include "common/errno_text.h"
#include "daemon/log/log.h"

namespace twofactor {

WorkerPool::WorkerPool(sd_event* loop, int threads) {
    eventfd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (eventfd_ < 0)
        throw std::runtime_error("cannot create the worker's eventfd: " + errno_text(errno));
    int r = sd_event_add_io(loop, &source_, eventfd_, EPOLLIN, &WorkerPool::on_wake, this);
    if (r < 0) {
        ::close(eventfd_);
        throw std::runtime_error("cannot watch the worker's eventfd: " + errno_text(-r));
    }
    try {
        for (int i = 0; i < std::max(threads, 1); ++i) threads_.emplace_back([this] { work(); });
    } catch (...) {
        stop();
        sd_event_source_disable_unref(source_);
        ::close(eventfd_);
        throw;
    }
}

WorkerPool::~WorkerPool() {
    stop();
    sd_event_source_disable_unref(source_);
    ::close(eventfd_);
}

void WorkerPool::stop() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_all();
    for (auto& thread : threads_) {
        if (thread.joinable()) thread.join();
    }
}

void WorkerPool::submit(Job job) {
    {
        std::lock_guard lock(mutex_);
        if (stopping_) return;
        jobs_.push_back(std::move(job));
    }
    wake_.notify_one();
}

void WorkerPool::to_loop(Job job) {
    {
        std::lock_guard lock(back_mutex_);
        back_.push_back(std::move(job));
    }
    const std::uint64_t one = 1;
    // A full counter (never in practice) still leaves the fd readable: nothing is lost.
    [[maybe_unused]] ssize_t written = ::write(eventfd_, &one, sizeof(one));
}

void WorkerPool::work() {
    for (;;) {
        Job job;
        {
            std::unique_lock lock(mutex_);
            wake_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
            if (stopping_) return;
            job = std::move(jobs_.front());
            jobs_.pop_front();
        }
        try {
            job();
        } catch (const std::exception& e) {
            log::error("a store job failed", {{"error", e.what()}});
        }
    }
}

int WorkerPool::on_wake(sd_event_source*, int fd, uint32_t, void* userdata) {
    auto* self = static_cast<WorkerPool*>(userdata);
    std::uint64_t count = 0;
    [[maybe_unused]] ssize_t got = ::read(fd, &count, sizeof(count));
    std::deque<Job> ready;
    {
        std::lock_guard lock(self->back_mutex_);
        ready.swap(self->back_);
    }
    for (auto& job : ready) {
        try {
            job();
        } catch (const std::exception& e) {
            log::error("a reply failed", {{"error", e.what()}});
        }
    }
    return 0;
}

}  // namespace twofactor
