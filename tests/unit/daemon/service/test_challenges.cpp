// SPDX-License-Identifier: BSD-2-Clause
#include <csetjmp>
#include <cstdarg>
#include <cstddef>
#include <cstdint>

#include <set>

#include "daemon/service/challenges.h"
#include "daemon/store/sqlite/sqlite_store.h"
#include "tests/unit/test_support.h"

namespace {

// Challenges live in the store: each test gets a fresh SQLite file.
struct Backing {
    twofactor::test::TempDir dir;
    twofactor::Cipher cipher{std::array<unsigned char, twofactor::kKeyBytes>{}};
    twofactor::SqliteStore store{dir.file("challenges.db"), cipher};
};

}  // namespace

#define BACKED_CHALLENGES \
    Backing backing;      \
    Challenges challenges(backing.store)

using twofactor::Challenges;
using twofactor::Delivery;

static void ids_are_long_random_and_distinct(void**) {
    BACKED_CHALLENGES;
    std::set<std::string> ids;
    for (int i = 0; i < 500; ++i) {
        auto c =
            challenges.create("user" + std::to_string(i), Delivery::TextMessage, 1000, 300, 5, 3);
        assert_int_equal(c.id.size(), 22);  // 128 bits in base64url
        ids.insert(c.id);
    }
    assert_int_equal(ids.size(), 500);
}

static void a_challenge_expires_at_its_lifetime(void**) {
    BACKED_CHALLENGES;
    std::string id = challenges.create("alice", Delivery::TextMessage, 1000, 300, 5, 3).id;
    assert_true(challenges.find(id, 1299).has_value());
    assert_false(challenges.find(id, 1300).has_value());
    assert_int_equal(challenges.size(), 0);
}

static void unknown_ids_are_not_found(void**) {
    BACKED_CHALLENGES;
    challenges.create("alice", Delivery::TextMessage, 1000, 300, 5, 3);
    assert_false(challenges.find("", 1000).has_value());
    assert_false(challenges.find("AAAAAAAAAAAAAAAAAAAAAA", 1000).has_value());
}

static void a_user_holds_a_bounded_number_of_challenges(void**) {
    BACKED_CHALLENGES;
    std::string first = challenges.create("alice", Delivery::TextMessage, 1000, 300, 5, 3).id;
    for (std::size_t i = 1; i < Challenges::kPerUser; ++i)
        challenges.create("alice", Delivery::TextMessage, 1000 + static_cast<int>(i), 300, 5, 3);
    assert_true(challenges.find(first, 1010).has_value());
    challenges.create("alice", Delivery::TextMessage, 1020, 300, 5, 3);
    assert_int_equal(challenges.size(), Challenges::kPerUser);
    assert_false(challenges.find(first, 1020).has_value());  // the oldest made room
}

static void reserved_steps_belong_to_their_user(void**) {
    BACKED_CHALLENGES;
    auto c = challenges.create("alice", Delivery::TextMessage, 1000, 300, 5, 3, 77);
    assert_true(challenges.reserved_steps("alice").count(77) == 1);
    assert_true(challenges.reserved_steps("alice").count(78) == 0);
    assert_true(challenges.reserved_steps("bob").empty());
    challenges.erase(c.id);
    assert_true(challenges.reserved_steps("alice").empty());
}

static void erase_user_drops_only_that_user(void**) {
    BACKED_CHALLENGES;
    std::string a = challenges.create("alice", Delivery::TextMessage, 1000, 300, 5, 3).id;
    std::string b = challenges.create("bob", Delivery::None, 1000, 300, 5, 3).id;
    challenges.erase_user("alice");
    assert_false(challenges.find(a, 1000).has_value());
    assert_true(challenges.find(b, 1000).has_value());
}

static void creating_sweeps_only_that_users_expired_challenges(void**) {
    BACKED_CHALLENGES;
    challenges.create("alice", Delivery::TextMessage, 1000, 300, 5, 3);
    challenges.create("bob", Delivery::TextMessage, 1000, 300, 5, 3);
    // Both expired at 1300. Alice's next login drops hers; Bob's waits for the housekeeping.
    std::string fresh = challenges.create("alice", Delivery::TextMessage, 1400, 300, 5, 3).id;
    assert_int_equal(challenges.size(), 2);
    challenges.expire(1400);
    assert_int_equal(challenges.size(), 1);
    assert_true(challenges.find(fresh, 1400).has_value());
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
