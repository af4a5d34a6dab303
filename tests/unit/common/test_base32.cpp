// SPDX-License-Identifier: BSD-2-Clause
// Base32 against RFC 4648 §10 and FusionAuth's example secret; decoding refuses anything an
// encoder would never write.
#include <string>

#include "common/base32.h"

// cmocka last: its fail() macro would clash with std::ios::fail(). Its 1.1 header leaves
// print_message()/print_error() without C linkage, hence the extern "C".
#include <csetjmp>
#include <cstdarg>
#include <cstddef>
#include <cstdint>
extern "C" {
#include <cmocka.h>
}

using twofactor::base32_decode;
using twofactor::base32_encode;

namespace {

struct Vector {
    const char* plain;
    const char* encoded;
};

// RFC 4648 §10.
const Vector kRfcVectors[] = {
    {"", ""},
    {"f", "MY======"},
    {"fo", "MZXQ===="},
    {"foo", "MZXW6==="},
    {"foob", "MZXW6YQ="},
    {"fooba", "MZXW6YTB"},
    {"foobar", "MZXW6YTBOI======"},
};

void assert_decodes_to(const char* text, const std::string& expected) {
    const auto decoded = base32_decode(text);
    assert_true(decoded.has_value());
    assert_int_equal(decoded->size(), expected.size());
    assert_memory_equal(decoded->data(), expected.data(), expected.size());
}

void test_rfc4648_encode(void**) {
    for (const Vector& v : kRfcVectors) {
        assert_string_equal(base32_encode(v.plain).c_str(), v.encoded);
    }
}

void test_rfc4648_decode(void**) {
    for (const Vector& v : kRfcVectors) assert_decodes_to(v.encoded, v.plain);
}

void test_fusionauth_example(void**) {
    assert_string_equal(base32_encode("8MJJfCY4ERBtotvenSc3").c_str(),
                        "HBGUUSTGINMTIRKSIJ2G65DWMVXFGYZT");
    assert_decodes_to("HBGUUSTGINMTIRKSIJ2G65DWMVXFGYZT", "8MJJfCY4ERBtotvenSc3");
}

void test_lower_case_unpadded_and_spaced(void**) {
    assert_decodes_to("mzxw6ytboi======", "foobar");
    assert_decodes_to("MzXw6YtBoI", "foobar");  // padding is optional
    assert_decodes_to("MY", "f");
    assert_decodes_to("MZXW 6YTB OI", "foobar");  // as apps show secrets, in groups
    assert_decodes_to("hbgu ustg inmt irks ij2g 65dw mvxf gyzt", "8MJJfCY4ERBtotvenSc3");
}

// Every byte value and every tail length survive a round trip.
void test_round_trip_binary(void**) {
    std::string bytes;
    for (int length = 0; length <= 300; ++length) {
        const std::string encoded = base32_encode(bytes);
        assert_int_equal(encoded.size() % 8, 0);
        const auto decoded = base32_decode(encoded);
        assert_true(decoded.has_value());
        assert_true(*decoded == bytes);
        bytes.push_back(static_cast<char>((length * 151 + 7) & 0xff));
    }
}

void test_rejects_bad_characters(void**) {
    for (const char* bad : {"MZXW6YQ1", "MZXW6YQ8", "MZXW6YQ0", "MZXW-6YQ", "MZXW\t6YQ",
                            "MZXW6YQ\n", "MZ\xc3\xa9XW6YQ", "MZXW_YTB"}) {
        assert_false(base32_decode(bad).has_value());
    }
}

void test_rejects_bad_padding(void**) {
    for (const char* bad : {
             "MY=====",           // too little padding for the block
             "MY=======",         // too much
             "MZ=XW6YQ",          // data after padding
             "MY======MY======",  // a second block after a padded one
             "========",          // padding alone
             "=",                 // padding alone
             "MZXW6YTB========",  // a full block of padding
             "M",                 // 1, 3 or 6 letters never come out of whole bytes
             "MZX",
             "MZXW6Y",
             "M=======",
             "MZXW6Y==",
             "MZ======",  // "f" with its unused bits set: not what an encoder writes
             "MZXR====",
         }) {
        assert_false(base32_decode(bad).has_value());
    }
}

}  // namespace

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc4648_encode),
        cmocka_unit_test(test_rfc4648_decode),
        cmocka_unit_test(test_fusionauth_example),
        cmocka_unit_test(test_lower_case_unpadded_and_spaced),
        cmocka_unit_test(test_round_trip_binary),
        cmocka_unit_test(test_rejects_bad_characters),
        cmocka_unit_test(test_rejects_bad_padding),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
