// SPDX-License-Identifier: BSD-2-Clause
// The service's Messenger: each text's, call's or verification's callback runs as the caller
// whose call sent it (log::CallerScope), so that the lines Twilio's answer causes count toward
// that caller's log budget like the lines of the call itself, and, for a login host's call, carry
// its HOST= (log::HostScope) like them.
#pragma once

#include <optional>
#include <string>
#include <utility>

#include "daemon/log/log.h"
#include "daemon/log/log_budget.h"
#include "daemon/service/messenger.h"

namespace twofactor {

class AttributedMessenger final : public Messenger {
public:
    explicit AttributedMessenger(Messenger& real) : real_(real) {}

    using Messenger::send;
    void send(const std::string& to, SecureString body, TextOptions options,
              Callback done) override {
        real_.send(to, std::move(body), options, attributed(std::move(done)));
    }
    void call(const std::string& to, SecureString twiml, TextOptions options,
              Callback done) override {
        real_.call(to, std::move(twiml), options, attributed(std::move(done)));
    }
    void start_verification(const std::string& to, const std::string& channel, TextOptions options,
                            Callback done) override {
        real_.start_verification(to, channel, options, attributed(std::move(done)));
    }
    void check_verification(const std::string& to, SecureString code, Callback done) override {
        real_.check_verification(to, std::move(code), attributed(std::move(done)));
    }

private:
    static Callback attributed(Callback done) {
        const std::optional<uid_t> caller = log::caller_in_scope();
        std::string host = log::host_in_scope();
        if (!caller && host.empty()) return done;
        return [caller, host = std::move(host), done = std::move(done)](const SmsResult& result) {
            log::HostScope host_scope(host);
            if (!caller) return done(result);
            log::CallerScope caller_scope(*caller);
            done(result);
        };
    }

    Messenger& real_;
};

}  // namespace twofactor
