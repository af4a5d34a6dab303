// SPDX-License-Identifier: BSD-2-Clause
#include "daemon/runtime/loop_messenger.h"

#include <memory>
#include <utility>

namespace twofactor {

Messenger::Callback LoopMessenger::on_worker(Callback done) {
    // std::function must be copyable: the callback is shared, not copied.
    auto shared = std::make_shared<Callback>(std::move(done));
    return [this, shared](const SmsResult& result) {
        workers_.submit([shared, result] { (*shared)(result); });
    };
}

void LoopMessenger::send(const std::string& to, SecureString body, TextOptions options,
                         Callback done) {
    auto shared_body = std::make_shared<SecureString>(std::move(body));
    workers_.to_loop([this, to, shared_body, options, done = on_worker(std::move(done))] {
        real_.send(to, std::move(*shared_body), options, done);
    });
}

void LoopMessenger::call(const std::string& to, SecureString twiml, TextOptions options,
                         Callback done) {
    auto shared_twiml = std::make_shared<SecureString>(std::move(twiml));
    workers_.to_loop([this, to, shared_twiml, options, done = on_worker(std::move(done))] {
        real_.call(to, std::move(*shared_twiml), options, done);
    });
}

void LoopMessenger::start_verification(const std::string& to, const std::string& channel,
                                       TextOptions options, Callback done) {
    workers_.to_loop([this, to, channel, options, done = on_worker(std::move(done))] {
        real_.start_verification(to, channel, options, done);
    });
}

void LoopMessenger::check_verification(const std::string& to, SecureString code, Callback done) {
    auto shared_code = std::make_shared<SecureString>(std::move(code));
    workers_.to_loop([this, to, shared_code, done = on_worker(std::move(done))] {
        real_.check_verification(to, std::move(*shared_code), done);
    });
}

}  // namespace twofactor
