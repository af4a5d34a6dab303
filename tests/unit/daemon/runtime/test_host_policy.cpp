// SPDX-License-Identifier: BSD-2-Clause
// What a login host may ask of a server: the methods for its root and its users, a twoFactorId
// bound to the host that started it, Status trimmed for root, and the per-host limits.
#include <array>
#include <optional>
#include <string>

#include "common/protocol.h"
#include "daemon/config/settings.h"
#include "daemon/runtime/host_policy.h"
#include "tests/unit/test_support.h"  // last: brings in cmocka

using twofactor::Caller;
using twofactor::HostPolicy;
using twofactor::ListenSettings;
using twofactor::protocol::json;
using twofactor::protocol::Request;
namespace method = twofactor::protocol::method;
namespace err = twofactor::protocol::error;

namespace {

std::array<unsigned char, twofactor::kKeyBytes> key(unsigned char fill) {
    std::array<unsigned char, twofactor::kKeyBytes> k{};
    k.fill(fill);
    return k;
}

ListenSettings limits(int logins = 100, int texts = 100) {
    ListenSettings s;
    s.logins_per_host_per_minute = logins;
    s.texts_per_host_per_minute = texts;
    return s;
}

// The error the policy answers, or "" when it lets the call through.
std::string refusal(HostPolicy& policy, const Caller& caller, Request& request) {
    auto answer = policy.admit(caller, request);
    return answer ? (*answer)["error"].get<std::string>() : std::string();
}

const Caller kRootOfA{0, "", "a.test"};
const Caller kRootOfB{0, "", "b.test"};
const Caller kAliceOnA{1000, "alice", "a.test"};

}  // namespace

static void a_bound_id_opens_only_on_its_host(void**) {
    HostPolicy policy(key(7), limits());
    const std::string bound = policy.bind("a.test", "ABCDEFGHIJKLMNOPQRSTUV");
    assert_true(bound.rfind("ABCDEFGHIJKLMNOPQRSTUV.", 0) == 0);
    assert_true(policy.unbind("a.test", bound) ==
                std::optional<std::string>("ABCDEFGHIJKLMNOPQRSTUV"));
    assert_false(policy.unbind("b.test", bound).has_value());
    assert_false(policy.unbind("a.test", "ABCDEFGHIJKLMNOPQRSTUV").has_value());
    std::string tampered = bound;
    tampered.back() = tampered.back() == 'A' ? 'B' : 'A';
    assert_false(policy.unbind("a.test", tampered).has_value());
    // Another fleet's key binds differently.
    HostPolicy other(key(8), limits());
    assert_false(other.unbind("a.test", bound).has_value());
}

static void a_hosts_root_may_only_run_logins(void**) {
    HostPolicy policy(key(7), limits());
    for (const char* m : {method::Unlock, method::Enable, method::Disable, method::Forget,
                          method::RegenerateRecoveryCodes, method::GenerateSecret}) {
        Request r{m, json{{"user", "alice"}}};
        assert_string_equal(refusal(policy, kRootOfA, r).c_str(), err::PermissionDenied);
    }
    Request setup{method::SendCode, json{{"mobilePhone", "+15005550009"}, {"secret", "x"}}};
    assert_string_equal(refusal(policy, kRootOfA, setup).c_str(), err::PermissionDenied);
    Request begin{method::Begin, json{{"user", "alice"}, {"trust", 3600}}};
    assert_string_equal(refusal(policy, kRootOfA, begin).c_str(), "");
    // The service binds the trust to the host (Caller::host): it passes as asked.
    assert_int_equal(begin.parameters.value("trust", 0), 3600);
    Request status{method::Status, json{{"user", "alice"}}};
    assert_string_equal(refusal(policy, kRootOfA, status).c_str(), "");
}

static void a_hosts_user_acts_as_itself_and_never_unlocks(void**) {
    HostPolicy policy(key(7), limits());
    Request unlock{method::Unlock, json{{"user", "alice"}}};
    assert_string_equal(refusal(policy, kAliceOnA, unlock).c_str(), err::PermissionDenied);
    Request disable{method::Disable, json{{"user", "alice"}, {"code", "123456"}}};
    assert_string_equal(refusal(policy, kAliceOnA, disable).c_str(), "");
    Request nameless{method::Status, json{{"user", "alice"}}};
    assert_string_equal(refusal(policy, Caller{1000, "", "a.test"}, nameless).c_str(),
                        err::PermissionDenied);
}

static void another_hosts_id_is_not_found(void**) {
    HostPolicy policy(key(7), limits());
    const std::string bound = policy.bind("a.test", "ABCDEFGHIJKLMNOPQRSTUV");
    Request elsewhere{method::Complete, json{{"twoFactorId", bound}, {"code", "123456"}}};
    assert_string_equal(refusal(policy, kRootOfB, elsewhere).c_str(), err::NotFound);
    Request here{method::Complete, json{{"twoFactorId", bound}, {"code", "123456"}}};
    assert_string_equal(refusal(policy, kRootOfA, here).c_str(), "");
    assert_string_equal(here.parameters["twoFactorId"].get<std::string>().c_str(),
                        "ABCDEFGHIJKLMNOPQRSTUV");
}

static void answers_are_shaped_for_the_host(void**) {
    HostPolicy policy(key(7), limits());
    json status = {{"parameters",
                    {{"user", "alice"},
                     {"enabled", true},
                     {"delivery", "TextMessage"},
                     {"mobilePhone", "***-***-5555"},
                     {"locked", false},
                     {"lockedUntil", nullptr},
                     {"failures", 2},
                     {"recoveryCodesLeft", 10},
                     {"trusts", json::array()}}}};
    json for_user = status;
    policy.shape_answer(kRootOfA, method::Status, status);
    assert_false(status["parameters"].contains("mobilePhone"));
    assert_false(status["parameters"].contains("failures"));
    assert_false(status["parameters"].contains("trusts"));
    assert_true(status["parameters"]["enabled"].get<bool>());
    policy.shape_answer(kAliceOnA, method::Status, for_user);
    assert_true(for_user["parameters"].contains("mobilePhone"));  // her own, masked

    json begun = {{"parameters", {{"twoFactorId", "ABCDEFGHIJKLMNOPQRSTUV"}}}};
    policy.shape_answer(kRootOfA, method::Begin, begun);
    const auto id = begun["parameters"]["twoFactorId"].get<std::string>();
    assert_true(policy.unbind("a.test", id).has_value());
}

static void logins_are_limited_per_host(void**) {
    HostPolicy policy(key(7), limits(3, 100));
    for (int i = 0; i < 3; ++i) {
        Request begin{method::Begin, json{{"user", "alice"}}};
        assert_string_equal(refusal(policy, kRootOfA, begin).c_str(), "");
    }
    Request fourth{method::Begin, json{{"user", "alice"}}};
    auto answer = policy.admit(kRootOfA, fourth);
    assert_true(answer.has_value());
    assert_string_equal((*answer)["error"].get<std::string>().c_str(), err::RateLimited);
    assert_true((*answer)["parameters"]["retryAfter"].get<long long>() > 0);
    Request other{method::Begin, json{{"user", "alice"}}};
    assert_string_equal(refusal(policy, kRootOfB, other).c_str(), "");
    // Completing is not limited: a login begun is always finished.
    Request complete{method::Complete, json{{"code", "123456"}}};
    assert_string_equal(refusal(policy, kRootOfA, complete).c_str(), "");
}

int main() {
    const CMUnitTest tests[] = {
        cmocka_unit_test(a_bound_id_opens_only_on_its_host),
        cmocka_unit_test(a_hosts_root_may_only_run_logins),
        cmocka_unit_test(a_hosts_user_acts_as_itself_and_never_unlocks),
        cmocka_unit_test(another_hosts_id_is_not_found),
        cmocka_unit_test(answers_are_shaped_for_the_host),
        cmocka_unit_test(logins_are_limited_per_host),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
