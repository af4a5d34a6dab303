// SPDX-License-Identifier: BSD-2-Clause
// A call's one answer. Every call the daemon takes is answered exactly once, by construction:
// copies of a Reply share one state; the first answer goes to the caller and later ones are
// dropped (and logged, being a bug); when the last copy is destroyed unanswered (an exception in
// a Twilio callback, a dropped lambda, shutdown) the Reply answers InternalError itself, so no
// caller waits for an answer that never comes and no connection is held by a call nobody serves.
#pragma once

#include <concepts>
#include <functional>
#include <memory>
#include <utility>

#include "common/protocol.h"

namespace twofactor {

class Reply {
public:
    // Delivers the answer; called once, from whichever thread answers.
    using Sink = std::function<void(protocol::json message)>;

    explicit Reply(Sink sink);
    template <typename F>
    requires(std::invocable<F&, protocol::json> && !std::same_as<std::decay_t<F>, Reply> &&
             !std::same_as<std::decay_t<F>, Sink>) Reply(F sink)
        : Reply(Sink(std::move(sink))) {}

    // Answers the call, unless it was answered already (then `message` is dropped and logged).
    void operator()(protocol::json message) const;
    bool answered() const;

    // Says the call is about to change what its caller depends on (a login challenge now
    // exists, a text is on its way). From then on a failure answers InternalError, never
    // Unavailable: the PAM module reads Unavailable as "no daemon", which failmode=safe lets in.
    // False when the call was answered already (its time ran out): it must not act then.
    bool act() const;
    bool acted() const;

    // A handle that does not keep the call open: the dispatcher's timer answers through it.
    class Watch {
    public:
        Watch() = default;
        // Answers, if nobody has: Unavailable while the call has not acted ("the database did
        // not answer in time"), InternalError once it has. False when already answered or gone.
        bool time_out() const;

    private:
        friend class Reply;
        std::weak_ptr<struct ReplyState> state_;
    };
    Watch watch() const;

private:
    std::shared_ptr<struct ReplyState> state_;
};

// The answers a Reply gives by itself.
protocol::json unanswered_error();
protocol::json timed_out_error(bool acted);

}  // namespace twofactor
