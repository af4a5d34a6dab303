// What the service needs from whoever delivers its codes: send one text to one number and hear,
// later, whether it was taken. TwilioClient is the real one; unit tests give the service a fake.
#pragma once

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
    std::string sid;        // the message SID on success
    int attempts = 0;
};

class Messenger {
public:
    using Callback = std::function<void(const SmsResult&)>;

    virtual ~Messenger() = default;

    // Queues a text to `to` (E.164). `done` runs exactly once, later, from the event loop, never
    // from inside send(). The body is wiped after use.
    virtual void send(const std::string& to, SecureString body, Callback done) = 0;
};

}  // namespace twofactor
