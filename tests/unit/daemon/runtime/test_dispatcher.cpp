// SPDX-License-Identifier: BSD-2-Clause
// The runtime around the service: calls go from the event loop to a worker and back, and
// every call gets exactly one answer, whatever happens on the way: a store failure while
// Twilio's answer is handled, a call the store does not start in time, a provider that drops its
// callback, shutdown. A real sd-event loop, WorkerPool, LoopMessenger and Service over a
// temporary SQLite store; only the provider is a fake, answered by the test.
#include <sqlite3.h>
#include <systemd/sd-event.h>

#include <array>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "common/protocol.h"
#include "common/totp.h"
#include "daemon/config/settings.h"
#include "daemon/keys/cipher.h"
#include "daemon/runtime/dispatcher.h"
#include "daemon/runtime/loop_messenger.h"
#include "daemon/runtime/worker_pool.h"
#include "daemon/service/messenger.h"
#include "daemon/service/reply.h"
#include "daemon/service/service.h"
#include "daemon/store/sqlite/sqlite_store.h"
#include "tests/unit/test_support.h"  // last: brings in cmocka

using namespace twofactor;
using protocol::json;
namespace method = protocol::method;
namespace err = protocol::error;

namespace {

const std::string kSecret = "8MJJfCY4ERBtotvenSc3";

// Twilio as the loop sees it: keeps each callback until the test answers or drops it.
class HeldProvider : public Messenger {
public:
    void send(const std::string&, SecureString, TextOptions, Callback done) override {
        held.push_back(std::move(done));
    }
    void call(const std::string&, SecureString, TextOptions, Callback done) override {
        held.push_back(std::move(done));
    }
    void start_verification(const std::string&, const std::string&, TextOptions,
                            Callback done) override {
        held.push_back(std::move(done));
    }
    void check_verification(const std::string&, SecureString, Callback done) override {
        held.push_back(std::move(done));
    }
    std::vector<Callback> held;
};

SmsResult refused_number() {
    SmsResult result;
    result.http_status = 400;
    result.twilio_code = 21211;
    result.message = "The 'To' number is not a valid phone number.";
    return result;
}

std::array<unsigned char, kKeyBytes> test_key() {
    std::array<unsigned char, kKeyBytes> key{};
    for (std::size_t i = 0; i < key.size(); ++i) key[i] = static_cast<unsigned char>(3 + i);
    return key;
}

struct Answers {
    std::vector<json> messages;
};

struct Runtime {
    test::TempDir dir;
    Cipher cipher{test_key()};
    Settings settings;
    std::unique_ptr<Store> store;
    sd_event* loop = nullptr;
    HeldProvider provider;
    std::unique_ptr<WorkerPool> thread;
    std::unique_ptr<LoopMessenger> messenger;
    std::unique_ptr<Service> service;
    std::unique_ptr<Dispatcher> dispatcher;

    explicit Runtime(std::chrono::milliseconds store_timeout = std::chrono::seconds(20)) {
        settings.sms.message = "Your code is {code}";
        store = std::make_unique<SqliteStore>(dir.file("twofactord.db"), cipher);
        assert_true(sd_event_new(&loop) >= 0);
        thread = std::make_unique<WorkerPool>(loop, 1);
        messenger = std::make_unique<LoopMessenger>(*thread, provider);
        service = std::make_unique<Service>(
            settings, *store, *messenger, [] { return static_cast<std::int64_t>(time(nullptr)); });
        dispatcher = std::make_unique<Dispatcher>(loop, *thread, *service, store_timeout,
                                                  std::chrono::seconds(30));
    }
    ~Runtime() { shut_down(); }

    void shut_down() {
        if (thread) thread->stop();
        dispatcher.reset();
        provider.held.clear();
        service.reset();
        messenger.reset();
        thread.reset();
        if (loop) loop = sd_event_unref(loop);
    }

    // Hands a call to the dispatcher as the server does; its answers land in `answers`.
    void call(const char* name, json parameters, std::shared_ptr<Answers> answers) {
        dispatcher->handle(
            Caller{0, ""}, protocol::Request{name, std::move(parameters)},
            Reply([answers](json message) { answers->messages.push_back(std::move(message)); }));
    }

    // Runs the loop until `done` holds, for at most `limit`.
    template <typename Done>
    bool run_until(Done done, std::chrono::milliseconds limit = std::chrono::seconds(15)) {
        const auto until = std::chrono::steady_clock::now() + limit;
        while (!done()) {
            if (std::chrono::steady_clock::now() >= until) return false;
            assert_true(sd_event_run(loop, 50'000) >= 0);
        }
        return true;
    }

    void enroll_alice() {
        auto answers = std::make_shared<Answers>();
        call(method::Enable,
             {{"user", "alice"},
              {"secret", kSecret},
              {"code", totp_code(kSecret, totp_step(time(nullptr)))},
              {"mobilePhone", "+15555550123"}},
             answers);
        assert_true(run_until([&] { return !answers->messages.empty(); }));
        assert_false(answers->messages[0].contains("error"));
    }

    // Begin for alice, run until her text is with the provider.
    std::shared_ptr<Answers> begin_alice() {
        auto answers = std::make_shared<Answers>();
        call(method::Begin, {{"user", "alice"}, {"timeout", 20}}, answers);
        assert_true(run_until([&] { return !provider.held.empty(); }));
        assert_true(answers->messages.empty());
        return answers;
    }
};

const char* error_of(const json& message) {
    static thread_local std::string error;
    error = message.value("error", "");
    return error.c_str();
}

// Another writer holds the database (a backup, a second process) past the busy timeout.
struct WriteLock {
    sqlite3* db = nullptr;
    explicit WriteLock(const std::string& path) {
        assert_int_equal(sqlite3_open(path.c_str(), &db), SQLITE_OK);
        assert_int_equal(sqlite3_exec(db, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), SQLITE_OK);
    }
    ~WriteLock() {
        sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
        sqlite3_close(db);
    }
};

void a_call_is_answered_once(void**) {
    Runtime r;
    auto answers = std::make_shared<Answers>();
    r.call(method::GenerateSecret, json::object(), answers);
    assert_true(r.run_until([&] { return !answers->messages.empty(); }));
    // Nothing else arrives: the loop runs a little longer.
    r.run_until([] { return false; }, std::chrono::milliseconds(300));
    assert_int_equal(answers->messages.size(), 1);
    assert_true(answers->messages[0]["parameters"].contains("secret"));
}

void a_store_failure_in_twilios_callback_is_an_internal_error(void**) {
    Runtime r;
    r.enroll_alice();
    auto answers = r.begin_alice();
    {
        // Twilio refuses the number; the daemon must record that no code went out, and the
        // database is locked longer than its busy timeout.
        WriteLock lock(r.dir.file("twofactord.db"));
        Messenger::Callback done = r.provider.held.back();
        done(refused_number());
        assert_true(r.run_until([&] { return !answers->messages.empty(); }));
    }
    assert_int_equal(answers->messages.size(), 1);
    // Not Unavailable: the module lets that in under failmode=safe, and a challenge exists.
    assert_string_equal(error_of(answers->messages[0]), err::InternalError);
}

void a_dropped_callback_is_an_internal_error(void**) {
    Runtime r;
    r.enroll_alice();
    auto answers = r.begin_alice();
    r.provider.held.clear();  // the provider forgets the text without answering
    assert_true(r.run_until([&] { return !answers->messages.empty(); }));
    assert_int_equal(answers->messages.size(), 1);
    assert_string_equal(error_of(answers->messages[0]), err::InternalError);
}

void a_call_the_store_does_not_start_in_time_is_unavailable(void**) {
    Runtime r(std::chrono::milliseconds(200));
    // The one worker is busy with something slow.
    r.thread->submit([] { std::this_thread::sleep_for(std::chrono::milliseconds(600)); });
    auto answers = std::make_shared<Answers>();
    r.call(method::GenerateSecret, json::object(), answers);
    assert_true(r.run_until([&] { return !answers->messages.empty(); }));
    assert_string_equal(error_of(answers->messages[0]), err::Unavailable);
    // The call, started late, does not answer a second time.
    r.run_until([] { return false; }, std::chrono::milliseconds(800));
    assert_int_equal(answers->messages.size(), 1);
}

void a_text_past_the_callers_deadline_is_answered_before_it(void**) {
    Runtime r;
    r.enroll_alice();
    auto answers = std::make_shared<Answers>();
    const auto started = std::chrono::steady_clock::now();
    r.call(method::Begin, {{"user", "alice"}, {"timeout", 2}}, answers);
    // The provider never answers; the caller waits 2 s and must hear before that.
    assert_true(r.run_until([&] { return !answers->messages.empty(); }));
    assert_true(std::chrono::steady_clock::now() - started < std::chrono::seconds(2));
    assert_string_equal(error_of(answers->messages[0]), err::InternalError);
}

void shutdown_answers_the_calls_in_flight(void**) {
    auto answers = std::make_shared<Answers>();
    {
        Runtime r;
        r.enroll_alice();
        answers = r.begin_alice();
    }
    assert_int_equal(answers->messages.size(), 1);
    assert_string_equal(error_of(answers->messages[0]), err::InternalError);
}

}  // namespace

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_call_is_answered_once),
        cmocka_unit_test(a_store_failure_in_twilios_callback_is_an_internal_error),
        cmocka_unit_test(a_dropped_callback_is_an_internal_error),
        cmocka_unit_test(a_call_the_store_does_not_start_in_time_is_unavailable),
        cmocka_unit_test(a_text_past_the_callers_deadline_is_answered_before_it),
        cmocka_unit_test(shutdown_answers_the_calls_in_flight),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
