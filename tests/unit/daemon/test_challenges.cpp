#include <csetjmp>
#include <cstdarg>
#include <cstddef>
#include <cstdint>

#include <set>

#include "daemon/challenges.h"

// cmocka last: its fail() macro would break the C++ headers.
extern "C" {
#include <cmocka.h>
}

using twofactor::Challenges;
using twofactor::Delivery;

static void ids_are_long_random_and_distinct(void**) {
    Challenges challenges;
    std::set<std::string> ids;
    for (int i = 0; i < 2000; ++i) {
        auto& c =
            challenges.create("user" + std::to_string(i), Delivery::TextMessage, 1000, 300, 5, 3);
        assert_int_equal(c.id.size(), 22);  // 128 bits in base64url
        ids.insert(c.id);
    }
    assert_int_equal(ids.size(), 2000);
}

static void a_challenge_expires_at_its_lifetime(void**) {
    Challenges challenges;
    std::string id = challenges.create("alice", Delivery::TextMessage, 1000, 300, 5, 3).id;
    assert_non_null(challenges.find(id, 1299));
    assert_null(challenges.find(id, 1300));
    assert_int_equal(challenges.size(), 0);
}

static void unknown_ids_are_not_found(void**) {
    Challenges challenges;
    challenges.create("alice", Delivery::TextMessage, 1000, 300, 5, 3);
    assert_null(challenges.find("", 1000));
    assert_null(challenges.find("AAAAAAAAAAAAAAAAAAAAAA", 1000));
}

static void a_user_holds_a_bounded_number_of_challenges(void**) {
    Challenges challenges;
    std::string first = challenges.create("alice", Delivery::TextMessage, 1000, 300, 5, 3).id;
    for (std::size_t i = 1; i < Challenges::kPerUser; ++i)
        challenges.create("alice", Delivery::TextMessage, 1000 + static_cast<int>(i), 300, 5, 3);
    assert_non_null(challenges.find(first, 1010));
    challenges.create("alice", Delivery::TextMessage, 1020, 300, 5, 3);
    assert_int_equal(challenges.size(), Challenges::kPerUser);
    assert_null(challenges.find(first, 1020));  // the oldest made room
}

static void reserved_steps_belong_to_their_user(void**) {
    Challenges challenges;
    auto& c = challenges.create("alice", Delivery::TextMessage, 1000, 300, 5, 3);
    c.texted_step = 77;
    assert_true(challenges.step_reserved("alice", 77));
    assert_false(challenges.step_reserved("alice", 78));
    assert_false(challenges.step_reserved("bob", 77));
    challenges.erase(c.id);
    assert_false(challenges.step_reserved("alice", 77));
}

static void erase_user_drops_only_that_user(void**) {
    Challenges challenges;
    std::string a = challenges.create("alice", Delivery::TextMessage, 1000, 300, 5, 3).id;
    std::string b = challenges.create("bob", Delivery::None, 1000, 300, 5, 3).id;
    challenges.erase_user("alice");
    assert_null(challenges.find(a, 1000));
    assert_non_null(challenges.find(b, 1000));
}

static void creating_sweeps_only_that_users_expired_challenges(void**) {
    Challenges challenges;
    challenges.create("alice", Delivery::TextMessage, 1000, 300, 5, 3);
    challenges.create("bob", Delivery::TextMessage, 1000, 300, 5, 3);
    // Both expired at 1300. Alice's next login drops hers; Bob's waits for the housekeeping.
    std::string fresh = challenges.create("alice", Delivery::TextMessage, 1400, 300, 5, 3).id;
    assert_int_equal(challenges.size(), 2);
    challenges.expire(1400);
    assert_int_equal(challenges.size(), 1);
    assert_non_null(challenges.find(fresh, 1400));
}

int main() {
    const CMUnitTest tests[] = {
        cmocka_unit_test(ids_are_long_random_and_distinct),
        cmocka_unit_test(a_challenge_expires_at_its_lifetime),
        cmocka_unit_test(unknown_ids_are_not_found),
        cmocka_unit_test(a_user_holds_a_bounded_number_of_challenges),
        cmocka_unit_test(reserved_steps_belong_to_their_user),
        cmocka_unit_test(erase_user_drops_only_that_user),
        cmocka_unit_test(creating_sweeps_only_that_users_expired_challenges),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
