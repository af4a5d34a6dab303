// SPDX-License-Identifier: BSD-2-Clause
// Twilio's answer comes back later, on another thread, outside the call that sent the text. The
// lines it causes must still count toward that caller's log budget and, for a login host's call,
// carry its HOST=, like the lines of the call itself.
#include <optional>
#include <string>
#include <thread>

#include "daemon/log/log.h"
#include "daemon/log/log_budget.h"
#include "daemon/service/attributed_messenger.h"

// cmocka last: its fail() macro would clash with std::ios::fail(). Its 1.1 header leaves
// print_message()/print_error() without C linkage, hence the extern "C".
#include <csetjmp>
#include <cstdarg>
#include <cstddef>
#include <cstdint>
extern "C" {
#include <cmocka.h>
}

using namespace twofactor;

namespace {

// Keeps each callback, to run it later from another thread, as TwilioClient does.
class HeldMessenger final : public Messenger {
public:
    using Messenger::send;
    void send(const std::string&, SecureString, TextOptions, Callback done) override {
        held = std::move(done);
    }
    void call(const std::string&, SecureString, TextOptions, Callback done) override {
        held = std::move(done);
    }
    void start_verification(const std::string&, const std::string&, TextOptions,
                            Callback done) override {
        held = std::move(done);
    }
    void check_verification(const std::string&, SecureString, Callback done) override {
        held = std::move(done);
    }
    Callback held;
};

struct Seen {
    std::optional<uid_t> caller;
    std::string host;
    bool ran = false;
};

// Runs the held callback on a fresh thread, which has no scope of its own.
void answer_later(HeldMessenger& real) {
    std::thread later([&] { real.held(SmsResult{}); });
    later.join();
}

Messenger::Callback recording(Seen& seen) {
    return [&seen](const SmsResult&) {
        seen.ran = true;
        seen.caller = log::caller_in_scope();
        seen.host = log::host_in_scope();
    };
}

void a_hosts_callers_answer_runs_as_that_caller_on_that_host(void**) {
    HeldMessenger real;
    AttributedMessenger messenger(real);
    Seen seen;
    {
        log::CallerScope caller(1000);
        log::HostScope host("login1.example.org");
        messenger.send("+15005550006", SecureString("code"), recording(seen));
    }
    answer_later(real);
    assert_true(seen.ran);
    assert_true(seen.caller.has_value());
    assert_int_equal(*seen.caller, 1000);
    assert_string_equal(seen.host.c_str(), "login1.example.org");
}

void every_provider_call_is_attributed(void**) {
    HeldMessenger real;
    AttributedMessenger messenger(real);
    Seen call_seen, start_seen, check_seen;
    {
        log::CallerScope caller(0);
        log::HostScope host("login2.example.org");
        messenger.call("+15005550006", SecureString("<Response/>"), {}, recording(call_seen));
        answer_later(real);
        messenger.start_verification("+15005550006", "sms", {}, recording(start_seen));
        answer_later(real);
        messenger.check_verification("+15005550006", SecureString("123456"), recording(check_seen));
    }
    answer_later(real);
    for (const Seen* seen : {&call_seen, &start_seen, &check_seen}) {
        assert_true(seen->ran);
        assert_string_equal(seen->host.c_str(), "login2.example.org");
        assert_true(seen->caller.has_value());
    }
}

void a_local_call_carries_no_host(void**) {
    HeldMessenger real;
    AttributedMessenger messenger(real);
    Seen seen;
    {
        log::CallerScope caller(1001);
        messenger.send("+15005550006", SecureString("code"), recording(seen));
    }
    answer_later(real);
    assert_true(seen.ran);
    assert_int_equal(*seen.caller, 1001);
    assert_true(seen.host.empty());
}

}  // namespace

int main() {
    const CMUnitTest tests[] = {
        cmocka_unit_test(a_hosts_callers_answer_runs_as_that_caller_on_that_host),
        cmocka_unit_test(every_provider_call_is_attributed),
        cmocka_unit_test(a_local_call_carries_no_host),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
