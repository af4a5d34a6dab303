// SPDX-License-Identifier: BSD-2-Clause
// One TwilioClient::send() is a Message: its attempts, the waits between them, and one report.
// User callbacks only ever run from the client's own defer source, never from inside send() or
// a curl callback, so a callback may send again or even destroy the client.
#include "daemon/twilio/twilio.h"

#include <curl/curl.h>
#include <openssl/crypto.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <systemd/sd-event.h>

#include <algorithm>
#include <climits>
#include <cstdio>
#include <cstring>
#include <deque>
#include <exception>
#include <mutex>
#include <random>
#include <stdexcept>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/errno_text.h"
#include "daemon/twilio/curl_event_bridge.h"
#include "daemon/twilio/curl_failure.h"
#include "daemon/twilio/retry_policy.h"
#include "daemon/twilio/twilio_answer.h"
#include "paths.h"

namespace twofactor {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr std::size_t kMaxAnswerBytes = 64 * 1024;  // Twilio's answers are ~1 KiB
constexpr uint64_t kTimerAccuracyUsec = 1000;
constexpr milliseconds kShortestUsefulAttempt{100};
constexpr int kCallTimeLimitSeconds = 120;

void start_curl_once() {
    static std::once_flag once;
    static CURLcode status = CURLE_OK;
    std::call_once(once, [] { status = curl_global_init(CURL_GLOBAL_DEFAULT); });
    if (status != CURLE_OK) throw std::runtime_error("curl_global_init failed");
}

uint64_t to_usec(milliseconds duration) {
    return duration.count() <= 0 ? 0 : static_cast<uint64_t>(duration.count()) * 1000;
}

// Appends curl's percent-encoding of `value`, wiping curl's temporary copy.
bool append_escaped(std::string& out, std::string_view value) {
    if (value.size() > INT_MAX) return false;
    char* escaped = curl_easy_escape(nullptr, value.data(), static_cast<int>(value.size()));
    if (escaped == nullptr) return false;
    std::size_t length = std::strlen(escaped);
    out.append(escaped, length);
    OPENSSL_cleanse(escaped, length);
    curl_free(escaped);
    return true;
}

// Grows `buffer` by hand so that no reallocation leaves a copy of Twilio's answer (which echoes
// the code) behind in freed memory.
void append_wiping_old(std::string& buffer, const char* data, std::size_t length) {
    if (buffer.size() + length > buffer.capacity()) {
        std::string bigger;
        bigger.reserve(std::max(buffer.capacity() * 2, buffer.size() + length));
        bigger.append(buffer);
        wipe(buffer);
        buffer.swap(bigger);
    }
    buffer.append(data, length);
}

std::string verify_url(const TwilioSettings& settings, const char* resource) {
    if (settings.verify_service_sid.empty()) return {};
    std::string url = settings.verify_api_url;
    while (!url.empty() && url.back() == '/') url.pop_back();
    url += "/v2/Services/";
    if (!append_escaped(url, settings.verify_service_sid))
        throw std::runtime_error("out of memory");
    return url + "/" + resource;
}

// `resource` of the account: Messages.json or Calls.json.
std::string account_url(const TwilioSettings& settings, const char* resource) {
    std::string url = settings.api_url;
    while (!url.empty() && url.back() == '/') url.pop_back();
    url += "/2010-04-01/Accounts/";
    if (!append_escaped(url, settings.account_sid)) throw std::runtime_error("out of memory");
    return url + "/" + resource;
}

// The config loader bounds these already; this keeps `now + deadline` and the timer arithmetic
// from overflowing whoever builds the settings.
TwilioSettings bounded(TwilioSettings s) {
    constexpr milliseconds kLongest = std::chrono::hours(1);
    for (milliseconds* d : {&s.request_timeout, &s.deadline, &s.backoff_initial, &s.backoff_max}) {
        *d = std::clamp(*d, milliseconds(0), kLongest);
    }
    return s;
}

std::optional<std::string> settings_problem(const TwilioSettings& settings) {
    if (auto url_problem = check_api_url(settings.api_url)) return url_problem;
    if (!settings.verify_service_sid.empty()) {
        if (auto url_problem = check_api_url(settings.verify_api_url))
            return "verify_" + *url_problem;
    }
    if (settings.account_sid.empty()) return "the Twilio account_sid is not set";
    if (!settings.api_key_sid.empty() && settings.api_key_secret.empty())
        return "the Twilio API key's secret is not set";
    if (settings.api_key_sid.empty() && settings.auth_token.empty())
        return "neither a Twilio API key nor the auth_token is set";
    if (settings.from.empty() && settings.messaging_service_sid.empty()) {
        return "neither the Twilio from number nor messaging_service_sid is set";
    }
    return std::nullopt;
}

// The certificates of a PEM file, added to each TLS connection's trust store beside the
// system's (a TLS-inspecting proxy, a test CA).
class ExtraAnchors {
public:
    ExtraAnchors() = default;
    ExtraAnchors(const ExtraAnchors&) = delete;
    ExtraAnchors& operator=(const ExtraAnchors&) = delete;
    ~ExtraAnchors() {
        for (X509* cert : certs_) X509_free(cert);
    }

    // nullopt when loaded, else why not.
    std::optional<std::string> load(const std::string& path) {
        std::FILE* file = std::fopen(path.c_str(), "re");
        if (file == nullptr) return "ca_file " + path + ": " + std::strerror(errno);
        while (X509* cert = PEM_read_X509(file, nullptr, nullptr, nullptr)) certs_.push_back(cert);
        std::fclose(file);
        if (certs_.empty()) return "ca_file " + path + " holds no PEM certificate";
        return std::nullopt;
    }

    bool empty() const { return certs_.empty(); }

    static CURLcode add_to(CURL*, void* ssl_ctx, void* user) {
        auto* self = static_cast<ExtraAnchors*>(user);
        X509_STORE* store = SSL_CTX_get_cert_store(static_cast<SSL_CTX*>(ssl_ctx));
        for (X509* cert : self->certs_) {
            // 0 means the store has it already (a connection before this one added it).
            X509_STORE_add_cert(store, cert);
        }
        return CURLE_OK;
    }

private:
    std::vector<X509*> certs_;
};

}  // namespace

struct TwilioClient::Impl {
    // What one request does: a text through Messages, a call through Calls, or a Verify call.
    enum class Kind { Text, Call, VerifyStart, VerifyCheck };

    struct Message {
        Impl* owner = nullptr;
        Kind kind = Kind::Text;
        std::string to;
        SecureString body;  // the text; a call: its TwiML; Verify: the channel, or the code
        TextOptions options;
        Callback done;
        Clock::time_point deadline_at;
        SmsResult result;
        sd_event_source* retry_timer = nullptr;

        // The attempt in progress.
        CURL* easy = nullptr;
        std::string form;
        std::string answer;
        bool answer_too_big = false;
        milliseconds attempt_timeout{0};
        char curl_error[CURL_ERROR_SIZE] = {};

        void end_attempt() {
            if (easy != nullptr) curl_easy_cleanup(easy);
            easy = nullptr;
            wipe(form);
            wipe(answer);
            answer_too_big = false;
        }
        ~Message() {
            end_attempt();
            sd_event_source_disable_unref(retry_timer);
            wipe(to);
        }
    };

    sd_event* loop;
    TwilioSettings settings;
    std::optional<std::string> problem;  // why nothing can be sent with these settings
    std::string url;
    std::string calls_url;
    std::string verifications_url;
    std::string verification_check_url;
    std::string user_agent;
    ExtraAnchors anchors;
    CurlEventBridge bridge;
    sd_event_source* report_due = nullptr;
    std::unordered_map<Message*, std::unique_ptr<Message>> messages;
    std::deque<Message*> to_report;
    std::minstd_rand jitter_source{std::random_device{}()};

    Impl(sd_event* event_loop, TwilioSettings s)
        : loop(event_loop),
          settings(bounded(std::move(s))),
          problem(settings_problem(settings)),
          url(account_url(settings, "Messages.json")),
          calls_url(account_url(settings, "Calls.json")),
          verifications_url(verify_url(settings, "Verifications")),
          verification_check_url(verify_url(settings, "VerificationCheck")),
          user_agent(settings.user_agent.empty() ? std::string("twofactord/") + paths::kVersion +
                                                       " (" + curl_version() + ")"
                                                 : settings.user_agent),
          bridge(event_loop, [this](CURL* easy, CURLcode code) { on_attempt_done(easy, code); }) {
        int r = sd_event_add_defer(loop, &report_due, &Impl::on_report_due, this);
        if (r < 0)
            throw std::runtime_error("cannot add an event source for Twilio results: " +
                                     errno_text(-r));
        r = sd_event_source_set_enabled(report_due, SD_EVENT_OFF);
        if (r < 0) {
            sd_event_source_disable_unref(report_due);
            throw std::runtime_error("cannot pause the event source for Twilio results: " +
                                     errno_text(-r));
        }
        (void)sd_event_source_set_description(report_due, "twilio-report");  // for debugging
        if (!problem && !settings.ca_file.empty()) problem = anchors.load(settings.ca_file);
    }

    ~Impl() {
        for (auto& [raw, message] : messages) {
            if (message->easy != nullptr) bridge.remove(message->easy);
        }
        messages.clear();
        to_report.clear();
        sd_event_source_disable_unref(report_due);
    }

    void send(const std::string& to, SecureString body, TextOptions options, Callback done,
              Kind kind = Kind::Text) {
        auto owned = std::make_unique<Message>();
        Message& message = *owned;
        message.owner = this;
        message.kind = kind;
        message.to = to;
        message.body = std::move(body);
        message.done = std::move(done);
        milliseconds budget = settings.deadline;
        if (options.budget > milliseconds(0)) budget = std::min(budget, options.budget);
        message.deadline_at = Clock::now() + budget;
        // Twilio takes 1 to 36000 seconds.
        options.validity =
            std::clamp(options.validity, std::chrono::seconds(0), std::chrono::seconds(36000));
        message.options = options;
        messages.emplace(&message, std::move(owned));

        if (problem) return fail_before_sending(message, *problem);
        if (kind == Kind::Call && settings.from.empty())
            return fail_before_sending(message, "calls need the Twilio from number");
        if ((kind == Kind::VerifyStart || kind == Kind::VerifyCheck) &&
            settings.verify_service_sid.empty())
            return fail_before_sending(message, "Twilio Verify is not configured");
        if (message.to.empty()) return fail_before_sending(message, "no destination number");
        if (message.body.empty()) return fail_before_sending(message, "the message text is empty");
        start_attempt(message);
    }

    void fail_before_sending(Message& message, const std::string& why) {
        message.result.message = why;
        report_later(message);
    }

    bool build_form(Message& message) {
        if (message.kind == Kind::Call) {
            message.form.reserve(
                3 * (message.to.size() + settings.from.size() + message.body.size()) + 64);
            message.form.append("To=");
            if (!append_escaped(message.form, message.to)) return false;
            message.form.append("&From=");
            if (!append_escaped(message.form, settings.from)) return false;
            // A code read twice takes under half a minute: a call never runs up the bill.
            message.form.append("&TimeLimit=" + std::to_string(kCallTimeLimitSeconds));
            message.form.append("&Twiml=");
            return append_escaped(message.form, message.body.view());
        }
        if (message.kind != Kind::Text) {
            bool check = message.kind == Kind::VerifyCheck;
            message.form.reserve(3 * (message.to.size() + message.body.size()) + 32);
            message.form.append("To=");
            if (!append_escaped(message.form, message.to)) return false;
            message.form.append(check ? "&Code=" : "&Channel=");
            return append_escaped(message.form, message.body.view());
        }
        bool by_number = !settings.from.empty();
        const std::string& sender = by_number ? settings.from : settings.messaging_service_sid;
        // Room for the worst case (every byte escaped) so the buffer is never reallocated.
        message.form.reserve(3 * (message.to.size() + sender.size() + message.body.size()) + 64);
        message.form.append("To=");
        if (!append_escaped(message.form, message.to)) return false;
        message.form.append(by_number ? "&From=" : "&MessagingServiceSid=");
        if (!append_escaped(message.form, sender)) return false;
        message.form.append("&Body=");
        if (!append_escaped(message.form, message.body.view())) return false;
        if (message.options.validity.count() > 0)
            message.form.append("&ValidityPeriod=" +
                                std::to_string(message.options.validity.count()));
        return true;
    }

    static size_t on_answer_bytes(char* data, size_t size, size_t count, void* user) {
        auto* message = static_cast<Message*>(user);
        size_t length = size * count;
        if (message->answer.size() + length > kMaxAnswerBytes) {
            message->answer_too_big = true;
            return 0;  // makes curl abort the transfer with CURLE_WRITE_ERROR
        }
        append_wiping_old(message->answer, data, length);
        return length;
    }

    CURLcode configure(Message& message) {
        CURL* easy = message.easy;
        CURLcode rc = CURLE_OK;
        auto set = [&](CURLoption option, auto value) {
            if (rc == CURLE_OK) rc = curl_easy_setopt(easy, option, value);
        };
        set(CURLOPT_URL, message.kind == Kind::Text          ? url.c_str()
                         : message.kind == Kind::Call        ? calls_url.c_str()
                         : message.kind == Kind::VerifyStart ? verifications_url.c_str()
                                                             : verification_check_url.c_str());
        set(CURLOPT_PROTOCOLS_STR, "http,https");
        set(CURLOPT_FOLLOWLOCATION, 0L);
        set(CURLOPT_SSL_VERIFYPEER, 1L);
        set(CURLOPT_SSL_VERIFYHOST, 2L);
        // A proxy must never see the clear-text credentials meant for a loopback endpoint.
        set(CURLOPT_NOPROXY, "localhost,127.0.0.0/8,::1");
        set(CURLOPT_NOSIGNAL, 1L);
        set(CURLOPT_HTTPAUTH, static_cast<long>(CURLAUTH_BASIC));
        // Twilio's advice for production: an API key (SK...) signs the request, the account
        // stays in the path.
        bool by_key = !settings.api_key_sid.empty();
        set(CURLOPT_USERNAME, by_key ? settings.api_key_sid.c_str() : settings.account_sid.c_str());
        set(CURLOPT_PASSWORD,
            by_key ? settings.api_key_secret.c_str() : settings.auth_token.c_str());
        set(CURLOPT_USERAGENT, user_agent.c_str());
        if (!anchors.empty()) {
            set(CURLOPT_SSL_CTX_FUNCTION, &ExtraAnchors::add_to);
            set(CURLOPT_SSL_CTX_DATA, static_cast<void*>(&anchors));
        }
        set(CURLOPT_POSTFIELDSIZE, static_cast<long>(message.form.size()));
        set(CURLOPT_POSTFIELDS, message.form.c_str());
        set(CURLOPT_TIMEOUT_MS, static_cast<long>(message.attempt_timeout.count()));
        set(CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(message.attempt_timeout.count()));
        set(CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(kMaxAnswerBytes));
        set(CURLOPT_WRITEFUNCTION, &Impl::on_answer_bytes);
        set(CURLOPT_WRITEDATA, static_cast<void*>(&message));
        set(CURLOPT_ERRORBUFFER, message.curl_error);
        set(CURLOPT_PRIVATE, static_cast<void*>(&message));
        return rc;
    }

    void start_attempt(Message& message) {
        ++message.result.attempts;
        message.curl_error[0] = '\0';
        auto left = std::chrono::duration_cast<milliseconds>(message.deadline_at - Clock::now());
        // CURLOPT_TIMEOUT_MS 0 would mean "no limit", so the floor is 1 ms.
        message.attempt_timeout =
            std::max(milliseconds(1), std::min(settings.request_timeout, left));
        message.answer.reserve(4096);

        message.easy = curl_easy_init();
        std::string failure;
        if (message.easy == nullptr) {
            failure = "curl could not create a transfer";
        } else if (!build_form(message)) {
            failure = "the message could not be encoded";
        } else if (CURLcode rc = configure(message); rc != CURLE_OK) {
            failure = std::string("curl refused an option: ") + curl_easy_strerror(rc);
        } else if (CURLMcode mrc = bridge.add(message.easy); mrc != CURLM_OK) {
            failure = std::string("curl could not start the transfer: ") + curl_multi_strerror(mrc);
        }
        if (!failure.empty()) {
            message.end_attempt();
            message.result.message = failure;
            report_later(message);
        }
    }

    SmsResult read_attempt(Message& message, CURLcode code, bool& retryable,
                           std::optional<std::chrono::seconds>& retry_after) {
        long status = 0;
        curl_easy_getinfo(message.easy, CURLINFO_RESPONSE_CODE, &status);
        SmsResult result;
        retryable = false;
        if (code == CURLE_OK) {
            // Verify answers a check with 200, everything else that it creates with 201.
            result = parse_twilio_answer(status, message.answer,
                                         message.kind == Kind::VerifyCheck ? 200 : 201);
            // Verify's own 429s (60202 too many checks, 60203 too many sends) are final.
            retryable = is_retryable_status(status) && result.twilio_code != 60202 &&
                        result.twilio_code != 60203;
            result.may_arrive = may_have_been_taken(status);
            curl_header* header = nullptr;
            if (curl_easy_header(message.easy, "Retry-After", 0, CURLH_HEADER, -1, &header) ==
                CURLHE_OK) {
                retry_after = parse_retry_after(header->value);
            }
        } else if (message.answer_too_big || code == CURLE_FILESIZE_EXCEEDED) {
            result.http_status = static_cast<int>(status);
            result.message = "Twilio answered " + std::to_string(status) +
                             " with a body over 64 KiB, which was not read";
        } else {
            result.message =
                describe_curl_failure(code, message.curl_error, message.attempt_timeout);
            // Bytes of the request on the wire: Twilio may have read it and sent the text.
            long request_bytes = 0;
            curl_easy_getinfo(message.easy, CURLINFO_REQUEST_SIZE, &request_bytes);
            retryable = is_retryable_curl_failure(code, request_bytes > 0);
            result.may_arrive = request_bytes > 0 && is_transient_curl_error(code);
        }
        result.attempts = message.result.attempts;
        return result;
    }

    void on_attempt_done(CURL* easy, CURLcode code) {
        char* user = nullptr;
        curl_easy_getinfo(easy, CURLINFO_PRIVATE, &user);
        auto* message = reinterpret_cast<Message*>(user);
        bool retryable = false;
        std::optional<std::chrono::seconds> retry_after;
        message->result = read_attempt(*message, code, retryable, retry_after);
        message->end_attempt();

        if (retryable && message->result.attempts < settings.max_attempts) {
            std::uniform_real_distribution<double> jitter(0.0, 1.0);
            milliseconds delay =
                retry_delay(message->result.attempts, settings.backoff_initial,
                            settings.backoff_max, retry_after, jitter(jitter_source));
            // Retry only if the next attempt can still start before the deadline, with enough
            // time left to get an answer: an attempt cut to a few milliseconds would only
            // replace Twilio's real error with a timeout.
            milliseconds least = std::min(settings.request_timeout, kShortestUsefulAttempt);
            if (Clock::now() + delay + least <= message->deadline_at &&
                schedule_retry(*message, delay)) {
                return;
            }
        }
        report_later(*message);
    }

    bool schedule_retry(Message& message, milliseconds delay) {
        sd_event_source_disable_unref(message.retry_timer);
        message.retry_timer = nullptr;
        return sd_event_add_time_relative(loop, &message.retry_timer, CLOCK_MONOTONIC,
                                          to_usec(delay), kTimerAccuracyUsec, &Impl::on_retry_due,
                                          &message) >= 0;
    }

    static int on_retry_due(sd_event_source*, uint64_t, void* user) {
        auto* message = static_cast<Message*>(user);
        message->owner->start_attempt(*message);
        return 0;
    }

    void report_later(Message& message) {
        to_report.push_back(&message);
        // Fails only on a loop that has finished (-ESTALE) or in a forked child (-ECHILD), where
        // no callback can run any more: nothing to do then.
        (void)sd_event_source_set_enabled(report_due, SD_EVENT_ONESHOT);
    }

    // One report per dispatch, with nothing touched after the callback: it may destroy us.
    static int on_report_due(sd_event_source* source, void* user) {
        auto* self = static_cast<Impl*>(user);
        if (self->to_report.empty()) return 0;
        Message* raw = self->to_report.front();
        self->to_report.pop_front();
        if (!self->to_report.empty())
            (void)sd_event_source_set_enabled(source, SD_EVENT_ONESHOT);  // as in report_later

        std::unique_ptr<Message> message = std::move(self->messages.extract(raw).mapped());
        SmsResult result = std::move(message->result);
        Callback done = std::move(message->done);
        message.reset();  // wipes the number and the body
        try {
            done(result);
        } catch (const std::exception& e) {
            std::fprintf(stderr, "twofactord: a Twilio result handler failed: %s\n", e.what());
        } catch (...) {
            std::fprintf(stderr, "twofactord: a Twilio result handler failed\n");
        }
        return 0;
    }
};

TwilioClient::TwilioClient(sd_event* loop, TwilioSettings settings) {
    if (loop == nullptr) throw std::runtime_error("TwilioClient needs an event loop");
    start_curl_once();
    impl_ = std::make_unique<Impl>(loop, std::move(settings));
}

TwilioClient::~TwilioClient() = default;

void TwilioClient::send(const std::string& to, SecureString body, TextOptions options,
                        Callback done) {
    impl_->send(to, std::move(body), options, std::move(done));
}

void TwilioClient::call(const std::string& to, SecureString twiml, TextOptions options,
                        Callback done) {
    options.validity = std::chrono::seconds(0);
    impl_->send(to, std::move(twiml), options, std::move(done), Impl::Kind::Call);
}

void TwilioClient::start_verification(const std::string& to, const std::string& channel,
                                      TextOptions options, Callback done) {
    options.validity = std::chrono::seconds(0);  // Verify keeps its own 10 minutes
    impl_->send(to, SecureString(std::string(channel)), options, std::move(done),
                Impl::Kind::VerifyStart);
}

void TwilioClient::check_verification(const std::string& to, SecureString code, Callback done) {
    impl_->send(to, std::move(code), TextOptions{}, std::move(done), Impl::Kind::VerifyCheck);
}

std::size_t TwilioClient::in_flight() const {
    return impl_->messages.size();
}

}  // namespace twofactor
