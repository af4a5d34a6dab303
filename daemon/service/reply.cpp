// SPDX-License-Identifier: BSD-2-Clause
#include "daemon/service/reply.h"

#include <mutex>

#include "daemon/log/log.h"

namespace twofactor {

struct ReplyState {
    explicit ReplyState(Reply::Sink s) : sink(std::move(s)) {}
    ReplyState(const ReplyState&) = delete;
    ReplyState& operator=(const ReplyState&) = delete;
    ~ReplyState() {
        if (answered) return;
        log::error("a call ended without an answer; answering InternalError");
        try {
            sink(unanswered_error());
        } catch (const std::exception& e) {
            log::error("cannot answer a call", {{"error", e.what()}});
        }
    }

    // Takes the right to answer: true for exactly one caller.
    bool take() {
        std::lock_guard lock(mutex);
        if (answered) return false;
        answered = true;
        return true;
    }

    Reply::Sink sink;
    std::mutex mutex;
    bool answered = false;
    bool acted = false;
};

protocol::json unanswered_error() {
    return protocol::make_error(protocol::error::InternalError,
                                {{"message", "the daemon failed to finish the call; see its log"}});
}

protocol::json timed_out_error(bool acted) {
    if (acted)
        return protocol::make_error(
            protocol::error::InternalError,
            {{"message", "the daemon could not finish the call in time; see its log"}});
    return protocol::make_error(
        protocol::error::Unavailable,
        {{"message", "the daemon's database did not answer in time; try again"}});
}

Reply::Reply(Sink sink) : state_(std::make_shared<ReplyState>(std::move(sink))) {}

void Reply::operator()(protocol::json message) const {
    if (!state_->take()) {
        log::error("a call was answered twice; the second answer is dropped");
        return;
    }
    state_->sink(std::move(message));
}

bool Reply::answered() const {
    std::lock_guard lock(state_->mutex);
    return state_->answered;
}

bool Reply::act() const {
    std::lock_guard lock(state_->mutex);
    if (state_->answered) return false;
    state_->acted = true;
    return true;
}

bool Reply::acted() const {
    std::lock_guard lock(state_->mutex);
    return state_->acted;
}

Reply::Watch Reply::watch() const {
    Watch watch;
    watch.state_ = state_;
    return watch;
}

bool Reply::Watch::time_out() const {
    auto state = state_.lock();
    if (!state) return false;
    bool acted = false;
    {
        std::lock_guard lock(state->mutex);
        if (state->answered) return false;
        state->answered = true;
        acted = state->acted;
    }
    state->sink(timed_out_error(acted));
    return true;
}

}  // namespace twofactor
