// SPDX-License-Identifier: BSD-2-Clause
// The wire codec: framing across arbitrary reads, the 64 KiB limit to the byte, and bytes
// from a hostile peer that must come out as Malformed, never as an exception or a crash.
#include <stdexcept>
#include <string>

#include "common/protocol.h"

// cmocka last: its fail() macro would clash with std::ios::fail(). Its 1.1 header leaves
// print_message()/print_error() without C linkage, hence the extern "C".
#include <csetjmp>
#include <cstdarg>
#include <cstddef>
#include <cstdint>
extern "C" {
#include <cmocka.h>
}

namespace protocol = twofactor::protocol;
using protocol::FrameReader;
using protocol::json;
using protocol::kMaxMessage;
using Status = FrameReader::Status;

namespace {

// What one frame (the text before its NUL) makes the reader say.
Status status_of_frame(std::string_view frame, json* out = nullptr) {
    FrameReader reader;
    std::string bytes(frame);
    bytes.push_back('\0');
    assert_true(reader.feed(bytes));
    json message;
    const Status status = reader.next(message);
    if (out) *out = message;
    assert_int_equal(reader.buffered(), 0);
    return status;
}

// A frame of exactly `size` bytes with its NUL: {"s":"xxx…"} and the terminator.
std::string frame_of_size(std::size_t size) {
    const std::size_t overhead = std::string(R"({"s":""})").size() + 1;
    return R"({"s":")" + std::string(size - overhead, 'x') + "\"}" + std::string(1, '\0');
}

void test_encode(void**) {
    const std::string bytes = protocol::encode(json{{"a", 1}});
    assert_int_equal(bytes.size(), 8);
    assert_memory_equal(bytes.data(), "{\"a\":1}\0", 8);
}

void test_encode_limit(void**) {
    const std::size_t overhead = std::string(R"({"s":""})").size() + 1;
    const json fits = {{"s", std::string(kMaxMessage - overhead, 'x')}};
    assert_int_equal(protocol::encode(fits).size(), kMaxMessage);
    const json too_big = {{"s", std::string(kMaxMessage - overhead + 1, 'x')}};
    bool threw = false;
    try {
        protocol::encode(too_big);
    } catch (const std::length_error&) {
        threw = true;
    }
    assert_true(threw);
}

void test_make_messages(void**) {
    const json call = protocol::make_call(protocol::method::Status, {{"user", "alice"}});
    assert_true(call == json::parse(R"({"method":"io.twofactor.Status",
                                        "parameters":{"user":"alice"}})"));
    assert_true(protocol::make_call(protocol::method::GenerateSecret, nullptr) ==
                json::parse(R"({"method":"io.twofactor.GenerateSecret","parameters":{}})"));
    assert_true(protocol::make_reply({{"user", "bob"}}) ==
                json::parse(R"({"parameters":{"user":"bob"}})"));
    assert_true(protocol::make_reply(nullptr) == json::parse(R"({"parameters":{}})"));
    const json error = protocol::make_error(protocol::error::NotFound,
                                            {{"twoFactorId", "x"}, {"message", "gone"}});
    assert_true(error == json::parse(R"({"error":"io.twofactor.NotFound",
                                         "parameters":{"twoFactorId":"x","message":"gone"}})"));
}

void test_byte_at_a_time(void**) {
    const json original = protocol::make_call(protocol::method::Complete,
                                              {{"twoFactorId", "abc"}, {"code", "123456"}});
    const std::string bytes = protocol::encode(original);
    FrameReader reader;
    json out;
    for (std::size_t i = 0; i + 1 < bytes.size(); ++i) {
        assert_true(reader.feed(bytes.substr(i, 1)));
        assert_int_equal(reader.next(out), Status::NeedMore);
        assert_int_equal(reader.buffered(), i + 1);
    }
    assert_true(reader.feed(bytes.substr(bytes.size() - 1)));
    assert_int_equal(reader.next(out), Status::Message);
    assert_true(out == original);
    assert_int_equal(reader.buffered(), 0);
    assert_int_equal(reader.next(out), Status::NeedMore);
}

void test_two_messages_in_one_feed_and_a_partial_third(void**) {
    const std::string first = protocol::encode(protocol::make_reply({{"n", 1}}));
    const std::string second = protocol::encode(protocol::make_reply({{"n", 2}}));
    const std::string third = protocol::encode(protocol::make_reply({{"n", 3}}));
    FrameReader reader;
    assert_true(reader.feed(first + second + third.substr(0, 5)));
    json out;
    assert_int_equal(reader.next(out), Status::Message);
    assert_int_equal(out["parameters"]["n"].get<int>(), 1);
    assert_int_equal(reader.next(out), Status::Message);
    assert_int_equal(out["parameters"]["n"].get<int>(), 2);
    assert_int_equal(reader.next(out), Status::NeedMore);
    assert_int_equal(reader.buffered(), 5);
    assert_true(reader.feed(third.substr(5)));
    assert_int_equal(reader.next(out), Status::Message);
    assert_int_equal(out["parameters"]["n"].get<int>(), 3);
    assert_int_equal(reader.buffered(), 0);
}

void test_exactly_64_kib_accepted(void**) {
    const std::string bytes = frame_of_size(kMaxMessage);
    assert_int_equal(bytes.size(), 65536);
    FrameReader reader;
    assert_true(reader.feed(bytes));
    json out;
    assert_int_equal(reader.next(out), Status::Message);
    assert_int_equal(out["s"].get<std::string>().size(), kMaxMessage - 9);
}

void test_one_byte_more_refused(void**) {
    const std::string bytes = frame_of_size(kMaxMessage + 1);
    // In one read: the NUL arrives with the rest, so next() judges the whole frame.
    FrameReader whole;
    assert_true(whole.feed(bytes));
    json out;
    assert_int_equal(whole.next(out), Status::TooLarge);
    assert_int_equal(whole.buffered(), 0);

    // In small reads: feed() says stop as soon as the unterminated data passes the limit.
    FrameReader pieces;
    const std::string body = bytes.substr(0, bytes.size() - 1);  // 65536 bytes, no NUL
    for (std::size_t i = 0; i < body.size(); i += 4096) {
        assert_true(pieces.feed(body.substr(i, 4096)));
        assert_int_equal(pieces.next(out), Status::NeedMore);
    }
    assert_false(pieces.feed("x"));
    assert_int_equal(pieces.next(out), Status::TooLarge);
}

void test_unterminated_after_a_message(void**) {
    FrameReader reader;
    // A good message followed by a flood: the limit counts only the unterminated tail.
    assert_true(reader.feed(protocol::encode(json::object()) + std::string(kMaxMessage, 'x')));
    assert_false(reader.feed("x"));
    json out;
    assert_int_equal(reader.next(out), Status::Message);
    assert_int_equal(reader.next(out), Status::TooLarge);
}

void test_invalid_utf8_is_malformed(void**) {
    assert_int_equal(status_of_frame("{\"a\":\"\xff\"}"), Status::Malformed);
    assert_int_equal(status_of_frame("{\"a\":\"\xc3\x28\"}"), Status::Malformed);
    assert_int_equal(status_of_frame("{\"a\":\"\xc0\xaf\"}"), Status::Malformed);      // overlong
    assert_int_equal(status_of_frame("{\"a\":\"\xed\xa0\x80\"}"), Status::Malformed);  // surrogate
    assert_int_equal(status_of_frame("{\"a\":\"\\ud800\"}"), Status::Malformed);  // lone escape
    assert_int_equal(status_of_frame("{\"\xff\":1}"), Status::Malformed);         // in a key
    json out;
    assert_int_equal(status_of_frame("{\"a\":\"caf\xc3\xa9 \xf0\x9f\x94\x91\"}", &out),
                     Status::Message);
    assert_string_equal(out["a"].get<std::string>().c_str(), "caf\xc3\xa9 \xf0\x9f\x94\x91");
}

void test_nul_inside_json_string(void**) {
    json out;
    assert_int_equal(status_of_frame(R"({"a":"x\u0000y"})", &out), Status::Message);
    assert_int_equal(out["a"].get<std::string>().size(), 3);
    assert_int_equal(out["a"].get<std::string>()[1], '\0');

    // A raw NUL ends the frame where it stands: both halves are then not JSON objects.
    FrameReader reader;
    assert_true(reader.feed(std::string("{\"a\":\"x\0y\"}\0", 12)));
    assert_int_equal(reader.next(out), Status::Malformed);
    assert_int_equal(reader.next(out), Status::Malformed);
    assert_int_equal(reader.next(out), Status::NeedMore);
}

void test_non_objects_are_malformed(void**) {
    for (const char* frame :
         {"[]", "[{\"method\":\"x\"}]", "1", "-0.5", "\"text\"", "null", "true", "", " ", "{", "}",
          "{}{}", "{} []", "{'a':1}", "{\"a\":1,}", "{\"a\":01}", "// c\n{}", "{\"a\":NaN}"}) {
        if (status_of_frame(frame) != Status::Malformed) {
            print_error("frame \"%s\" was not Malformed\n", frame);
            fail();
        }
    }
    assert_int_equal(status_of_frame(" \n{ } \t"), Status::Message);
}

void test_hostile_numbers_and_nesting(void**) {
    json out;
    // Overflowing and absurd numbers: Malformed or a message, never an exception.
    const Status huge = status_of_frame(R"({"n":1e999999})");
    assert_true(huge == Status::Malformed || huge == Status::Message);
    assert_int_equal(status_of_frame(R"({"n":123456789012345678901234567890})", &out),
                     Status::Message);
    assert_true(out["n"].is_number_float());
    assert_int_equal(status_of_frame(R"({"n":-9223372036854775809})", &out), Status::Message);
    const std::string long_number = "{\"n\":" + std::string(60000, '9') + "}";
    const Status long_status = status_of_frame(long_number);
    assert_true(long_status == Status::Malformed || long_status == Status::Message);

    std::string deep;
    for (int i = 0; i < 9000; ++i) deep += "{\"a\":";
    deep += "1";
    deep += std::string(9000, '}');
    assert_true(deep.size() < kMaxMessage);
    // Legal JSON, but deep enough to overflow a stack where nlohmann copies it: refused.
    assert_int_equal(status_of_frame(deep), Status::Malformed);
    std::string arrays = std::string(20000, '[') + std::string(20000, ']');
    assert_int_equal(status_of_frame(arrays), Status::Malformed);
    std::string shallow;
    for (int i = 0; i < 20; ++i) shallow += "{\"a\":";
    shallow += "1" + std::string(20, '}');
    assert_int_equal(status_of_frame(shallow), Status::Message);
    assert_int_equal(status_of_frame(std::string(30000, '[') + std::string(30000, ']')),
                     Status::Malformed);
}

void test_reader_continues_after_malformed(void**) {
    FrameReader reader;
    assert_true(reader.feed(std::string("[1]\0", 4) + protocol::encode(json{{"ok", true}})));
    json out;
    assert_int_equal(reader.next(out), Status::Malformed);
    assert_int_equal(reader.next(out), Status::Message);
    assert_true(out["ok"].get<bool>());
}

void test_parse_request(void**) {
    auto request = protocol::parse_request(
        json::parse(R"({"method":"io.twofactor.Status","parameters":{"user":"alice"}})"));
    assert_true(request.has_value());
    assert_string_equal(request->method.c_str(), "io.twofactor.Status");
    assert_string_equal(request->parameters["user"].get<std::string>().c_str(), "alice");

    request = protocol::parse_request(json::parse(R"({"method":"io.twofactor.GenerateSecret"})"));
    assert_true(request.has_value());
    assert_true(request->parameters.is_object() && request->parameters.empty());

    for (const char* bad :
         {R"({})", R"({"parameters":{}})", R"({"method":1})", R"({"method":null})",
          R"({"method":["a"]})", R"({"method":"m","parameters":[]})",
          R"({"method":"m","parameters":null})", R"({"method":"m","parameters":"x"})",
          R"([{"method":"m"}])", R"("io.twofactor.Status")"}) {
        if (protocol::parse_request(json::parse(bad)).has_value()) {
            print_error("request %s was accepted\n", bad);
            fail();
        }
    }
}

}  // namespace

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_encode),
        cmocka_unit_test(test_encode_limit),
        cmocka_unit_test(test_make_messages),
        cmocka_unit_test(test_byte_at_a_time),
        cmocka_unit_test(test_two_messages_in_one_feed_and_a_partial_third),
        cmocka_unit_test(test_exactly_64_kib_accepted),
        cmocka_unit_test(test_one_byte_more_refused),
        cmocka_unit_test(test_unterminated_after_a_message),
        cmocka_unit_test(test_invalid_utf8_is_malformed),
        cmocka_unit_test(test_nul_inside_json_string),
        cmocka_unit_test(test_non_objects_are_malformed),
        cmocka_unit_test(test_hostile_numbers_and_nesting),
        cmocka_unit_test(test_reader_continues_after_malformed),
        cmocka_unit_test(test_parse_request),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
