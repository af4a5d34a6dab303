// SPDX-License-Identifier: BSD-2-Clause
// What the service needs from whoever delivers its codes: send one text to one number and hear,
// later, whether it was taken. TwilioClient is the real one; unit tests give the service a fake.
#pragma once

#include <chrono>
#include <functional>
#include <string>

#include "common/secure.h"

namespace twofactor {

// How one message fared.
struct SmsResult {
    bool accepted = false;  // the provider took the message (Twilio: 201)
    int http_status = 0;    // 0 when no answer came
    int twilio_code = 0;    // the provider's error "code", 0 if none
    std::string message;    // the provider's error "message", or what went wrong on the way
    std::string
        sid;  // the message SID on success (a call: CA...; Verify: the verification's VE...)
    std::string status;  // Verify: the verification's status, "pending" or "approved"
    int attempts = 0;
    // Not accepted, yet the provider may have taken the text (Twilio: a 500, 502 or 504, or no
    // answer once the request went out): it may still arrive, and it was not sent again.
    bool may_arrive = false;
};

// What one text asks of the provider beyond its number and body.
struct TextOptions {
    // Twilio's ValidityPeriod: the text is dropped if it could not leave within this (the
    // challenge's remaining lifetime, so a late text dies with its code). 0 sends none.
    std::chrono::seconds validity{0};
    // All attempts at this text end within this (the caller's own deadline), when shorter than
    // the configured deadline. 0: the configured deadline.
    std::chrono::milliseconds budget{0};
};

class Messenger {
public:
    using Callback = std::function<void(const SmsResult&)>;

    virtual ~Messenger() = default;

    // Queues a text to `to` (E.164). `done` runs exactly once, later, never from inside send():
    // TwilioClient calls it on the event loop; the service's Messenger (LoopMessenger) brings it
    // to a worker, where it may use the store. The body is wiped after use.
    virtual void send(const std::string& to, SecureString body, TextOptions options,
                      Callback done) = 0;
    void send(const std::string& to, SecureString body, Callback done) {
        send(to, std::move(body), TextOptions{}, std::move(done));
    }

    // Rings `to` (E.164) and has the provider follow `twiml` (inline TwiML, wiped after use):
    // Twilio's Calls API, with the same retry rules as a text. Accepted when the call is queued.
    virtual void call(const std::string& to, SecureString twiml, TextOptions options,
                      Callback done) = 0;

    // Twilio Verify: the provider makes the code and sends it to `to` on `channel` ("sms" or
    // "call"); accepted when the verification is pending. Again while it is pending, the same
    // code is sent again.
    virtual void start_verification(const std::string& to, const std::string& channel,
                                    TextOptions options, Callback done) = 0;
    // Twilio Verify: checks `code` against the pending verification of `to`; accepted only when
    // the verification is approved (status "pending": a wrong code).
    virtual void check_verification(const std::string& to, SecureString code, Callback done) = 0;
};

}  // namespace twofactor
