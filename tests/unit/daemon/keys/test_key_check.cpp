// SPDX-License-Identifier: BSD-2-Clause
// The key check value, against any store: the right key passes, another key is refused before
// anything is written, and a store without a check value gets one only when its enrollments
// agree with the key.
#include <array>
#include <map>
#include <optional>
#include <string>

#include "daemon/keys/key_check.h"
#include "tests/unit/test_support.h"

using twofactor::Cipher;
using twofactor::KeyError;
using twofactor::kKeyBytes;
using twofactor::test::contains;
using twofactor::test::message_of;

namespace {

std::array<unsigned char, kKeyBytes> test_key(unsigned char first) {
    std::array<unsigned char, kKeyBytes> key{};
    for (std::size_t i = 0; i < key.size(); ++i) key[i] = static_cast<unsigned char>(first + i);
    return key;
}

// A store of metadata in memory, with a sample enrollment answer fixed by the test.
class MemoryStore : public twofactor::KeyCheckStore {
public:
    std::optional<std::string> get_metadata(const std::string& name) const override {
        auto it = values.find(name);
        if (it == values.end()) return std::nullopt;
        return it->second;
    }
    void put_metadata(const std::string& name, const std::string& value) override {
        values[name] = value;
        ++writes;
    }
    std::optional<bool> sample_enrollment_opens() const override { return sample; }

    std::map<std::string, std::string> values;
    std::optional<bool> sample;
    int writes = 0;
};

void a_new_store_gets_a_check_the_same_key_opens(void**) {
    Cipher key(test_key(1));
    MemoryStore store;
    twofactor::check_key(store, key, "key file k", "db");
    assert_int_equal(store.writes, 1);
    assert_true(twofactor::key_check_opens(key, store.values.at(twofactor::kKeyCheckName)));
    twofactor::check_key(store, key, "key file k", "db");
    assert_int_equal(store.writes, 1);  // checked, not rewritten
}

void another_key_is_refused_and_writes_nothing(void**) {
    Cipher right(test_key(1));
    Cipher wrong(test_key(2));
    MemoryStore store;
    twofactor::check_key(store, right, "key file k", "db");
    const std::string sealed = store.values.at(twofactor::kKeyCheckName);
    std::string message =
        message_of<KeyError>([&] { twofactor::check_key(store, wrong, "key file o", "db"); });
    assert_true(contains(message, "key file o does not open database db"));
    assert_true(contains(message, "sealed with another key"));
    assert_int_equal(store.writes, 1);
    assert_true(store.values.at(twofactor::kKeyCheckName) == sealed);
    assert_false(twofactor::key_check_opens(wrong, sealed));
}

void an_old_store_is_judged_by_its_enrollments(void**) {
    Cipher key(test_key(1));
    MemoryStore refused;
    refused.sample = false;
    std::string message =
        message_of<KeyError>([&] { twofactor::check_key(refused, key, "key file k", "db"); });
    assert_true(contains(message, "its enrollments were sealed with another key"));
    assert_int_equal(refused.writes, 0);

    MemoryStore accepted;
    accepted.sample = true;
    twofactor::check_key(accepted, key, "key file k", "db");
    assert_int_equal(accepted.writes, 1);
}

void a_check_value_is_bound_to_its_purpose(void**) {
    Cipher key(test_key(1));
    // The same text sealed for another purpose (other associated data) is no check value.
    assert_false(twofactor::key_check_opens(key, key.seal("twofactord database key", "alice")));
    assert_false(twofactor::key_check_opens(key, ""));
}

}  // namespace

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_new_store_gets_a_check_the_same_key_opens),
        cmocka_unit_test(another_key_is_refused_and_writes_nothing),
        cmocka_unit_test(an_old_store_is_judged_by_its_enrollments),
        cmocka_unit_test(a_check_value_is_bound_to_its_purpose),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
