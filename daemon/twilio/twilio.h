// SPDX-License-Identifier: BSD-2-Clause
// Sends text messages through Twilio's Messages API (and places calls through its Calls API) on
// libcurl's multi interface, driven by the daemon's sd-event loop: many sends run at once and none
// blocks the loop.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "common/secure.h"
#include "daemon/service/messenger.h"

typedef struct sd_event sd_event;

namespace twofactor {

struct TwilioSettings {
    std::string api_url = "https://api.twilio.com";  // https, or http on a loopback address
    std::string account_sid;
    SecureString auth_token;  // used when there is no API key
    std::string api_key_sid;  // SK...: Basic auth with the key, account_sid stays in the path
    SecureString api_key_secret;
    std::string verify_service_sid;  // VA...: codes made and checked by Twilio Verify
    std::string verify_api_url = "https://verify.twilio.com";
    std::string ca_file;                // one more trust anchor (PEM), beside the system's
    std::string user_agent;             // default "twofactord/VERSION"
    std::string from;                   // E.164 sender, or empty
    std::string messaging_service_sid;  // used when `from` is empty
    std::chrono::milliseconds request_timeout{10000};  // one HTTP attempt
    std::chrono::milliseconds deadline{20000};         // all attempts of one message
    int max_attempts = 4;
    std::chrono::milliseconds backoff_initial{500};
    std::chrono::milliseconds backoff_max{4000};
};

// nullopt when acceptable, else why not ("api_url must use https unless it is loopback").
std::optional<std::string> check_api_url(const std::string& url);

class TwilioClient final : public Messenger {
public:
    // The event loop must outlive the client. Throws std::runtime_error if curl cannot start.
    TwilioClient(sd_event* loop, TwilioSettings settings);
    // Cancels every pending message without running its callback; bodies are wiped. May be
    // called from inside a `done` callback (callbacks only ever run from a deferred event).
    ~TwilioClient() override;
    TwilioClient(const TwilioClient&) = delete;
    TwilioClient& operator=(const TwilioClient&) = delete;

    // Queues one message. `done` runs exactly once, from the event loop, never from inside send().
    // Retries what Twilio did not take: 429 (honouring Retry-After), 503 and failures before the
    // request went out, with capped exponential backoff until `deadline` (or the text's own
    // budget). Never retries any other answer, nor a request that may have reached Twilio
    // (SmsResult.may_arrive). The body is wiped after use.
    void send(const std::string& to, SecureString body, TextOptions options,
              Callback done) override;
    using Messenger::send;
    // Calls.json with `From` = settings.from (a Messaging Service cannot place calls) and
    // `Twiml`; no ValidityPeriod (calls have none).
    void call(const std::string& to, SecureString twiml, TextOptions options,
              Callback done) override;
    void start_verification(const std::string& to, const std::string& channel, TextOptions options,
                            Callback done) override;
    void check_verification(const std::string& to, SecureString code, Callback done) override;

    // Messages whose callback has not run yet (sending, waiting to retry, or about to report).
    std::size_t in_flight() const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace twofactor
