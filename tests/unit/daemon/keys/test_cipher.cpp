// SPDX-License-Identifier: BSD-2-Clause
// AES-256-GCM sealing: round trips, and every kind of tampering is refused.
#include <algorithm>
#include <array>
#include <new>
#include <set>
#include <string>

#include "daemon/keys/cipher.h"
#include "tests/unit/test_support.h"

using twofactor::Cipher;
using twofactor::kKeyBytes;
using twofactor::test::contains;

namespace {

constexpr std::size_t kOverhead = 12 + 16;  // nonce + tag
const std::string kSecret = "8MJJfCY4ERBtotvenSc3";

std::array<unsigned char, kKeyBytes> test_key(unsigned char first) {
    std::array<unsigned char, kKeyBytes> key{};
    for (std::size_t i = 0; i < key.size(); ++i) key[i] = static_cast<unsigned char>(first + i);
    return key;
}

void round_trip(void**) {
    Cipher cipher(test_key(1));
    for (const std::string& text : {kSecret, std::string(), std::string("+15555555555"),
                                    std::string("a\0b", 3), std::string(1000, 'x')}) {
        std::string blob = cipher.seal(text, "alice");
        assert_int_equal(blob.size(), text.size() + kOverhead);
        if (text.size() >= 4) assert_false(contains(blob, text));
        auto opened = cipher.open(blob, "alice");
        assert_true(opened.has_value());
        assert_true(opened->view() == text);
    }
}

void nonce_is_fresh_per_seal(void**) {
    Cipher cipher(test_key(1));
    std::set<std::string> nonces;
    std::set<std::string> blobs;
    for (int i = 0; i < 50; ++i) {
        std::string blob = cipher.seal(kSecret, "alice");
        nonces.insert(blob.substr(0, 12));
        blobs.insert(blob);
    }
    assert_int_equal(nonces.size(), 50);
    assert_int_equal(blobs.size(), 50);
}

// Flipping any single bit anywhere (nonce, ciphertext, tag) must make the blob unopenable.
void tampering_any_byte_is_detected(void**) {
    Cipher cipher(test_key(1));
    const std::string blob = cipher.seal(kSecret, "alice");
    for (std::size_t i = 0; i < blob.size(); ++i) {
        for (unsigned bit = 0; bit < 8; ++bit) {
            std::string bad = blob;
            bad[i] = static_cast<char>(bad[i] ^ (1u << bit));
            if (cipher.open(bad, "alice").has_value())
                fail_msg("flipping bit %u of byte %zu went unnoticed", bit, i);
        }
    }
    assert_true(cipher.open(blob, "alice").has_value());  // the original still opens
}

void short_or_resized_blobs_are_refused(void**) {
    Cipher cipher(test_key(1));
    const std::string blob = cipher.seal(kSecret, "alice");
    for (std::size_t n = 0; n < blob.size(); ++n)
        assert_false(cipher.open(blob.substr(0, n), "alice").has_value());
    assert_false(cipher.open(blob + '\0', "alice").has_value());
    assert_false(cipher.open(blob.substr(1), "alice").has_value());
    assert_false(cipher.open(std::string(kOverhead - 1, '\0'), "alice").has_value());
    assert_false(cipher.open(std::string(kOverhead, '\0'), "alice").has_value());

    // An empty plaintext is exactly the overhead long and still authenticated.
    const std::string empty = cipher.seal("", "alice");
    assert_true(cipher.open(empty, "alice").has_value());
    assert_false(cipher.open(empty, "bob").has_value());
}

void wrong_associated_data_is_refused(void**) {
    Cipher cipher(test_key(1));
    const std::string blob = cipher.seal(kSecret, "alice");
    for (const std::string& aad :
         {std::string("bob"), std::string(), std::string("alicf"), std::string("Alice"),
          std::string("alice\0", 6), std::string("alic")})
        assert_false(cipher.open(blob, aad).has_value());
}

void wrong_key_is_refused(void**) {
    const auto key = test_key(1);
    Cipher cipher(key);
    const std::string blob = cipher.seal(kSecret, "alice");
    for (std::size_t i = 0; i < key.size(); i += 7) {
        auto other = key;
        other[i] ^= 0x01;
        Cipher wrong(other);
        assert_false(wrong.open(blob, "alice").has_value());
    }
    Cipher same(key);  // a second cipher with the same key opens it
    assert_true(same.open(blob, "alice").has_value());
}

// The destructor cleanses the key: after it runs, the object's storage no longer holds it.
// The MAC under a key derived per purpose: deterministic, 32 bytes, and another purpose, key or
// message, or an altered or shortened tag, does not match.
void macs_are_bound_to_purpose_key_and_message(void**) {
    Cipher cipher(test_key(1));
    const std::string tag = cipher.mac("purpose", "message");
    assert_int_equal(tag.size(), 32);
    assert_true(tag == cipher.mac("purpose", "message"));
    assert_true(cipher.mac_matches("purpose", "message", tag));
    assert_false(tag == cipher.mac("other purpose", "message"));
    assert_false(cipher.mac_matches("other purpose", "message", tag));
    assert_false(cipher.mac_matches("purpose", "messagf", tag));
    assert_false(Cipher(test_key(2)).mac_matches("purpose", "message", tag));
    std::string altered = tag;
    altered[31] = static_cast<char>(altered[31] ^ 1);
    assert_false(cipher.mac_matches("purpose", "message", altered));
    assert_false(cipher.mac_matches("purpose", "message", tag.substr(0, 16)));
    assert_false(cipher.mac_matches("purpose", "message", ""));
}

void destructor_cleanses_the_key(void**) {
    const auto key = test_key(0x41);
    alignas(Cipher) unsigned char storage[sizeof(Cipher)];
    auto* cipher = new (storage) Cipher(key);
    const std::string_view raw(reinterpret_cast<const char*>(storage), sizeof storage);
    const std::string_view key_bytes(reinterpret_cast<const char*>(key.data()), key.size());
    assert_true(contains(raw, key_bytes));  // control: the key is there while it lives
    cipher->~Cipher();
    assert_false(contains(raw, key_bytes.substr(0, 8)));
}

}  // namespace

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(round_trip),
        cmocka_unit_test(nonce_is_fresh_per_seal),
        cmocka_unit_test(tampering_any_byte_is_detected),
        cmocka_unit_test(short_or_resized_blobs_are_refused),
        cmocka_unit_test(wrong_associated_data_is_refused),
        cmocka_unit_test(wrong_key_is_refused),
        cmocka_unit_test(macs_are_bound_to_purpose_key_and_message),
        cmocka_unit_test(destructor_cleanses_the_key),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
