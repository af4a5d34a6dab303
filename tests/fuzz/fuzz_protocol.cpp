// SPDX-License-Identifier: BSD-2-Clause
// The daemon's and the module's wire decoder, fed as a hostile peer would: any bytes, split
// into reads of any size. Every answer of FrameReader is checked against a plain model (split
// the whole stream at its NULs, parse each frame on its own), and every message it yields must
// survive parse_request() and an encode()/decode round trip unchanged. A frame nested deeper
// than kMaxNesting is Malformed.
//
// Input layout (so that a 4 KiB input can still reach the 64 KiB limits):
//   byte 0       low 3 bits: how many chunk-size bytes follow (0: one single read);
//                high 5 bits all set: 63.5 KiB of spaces go in front of the stream, in one
//                read (JSON whitespace: a padded message is still one valid message, and the
//                next 512 bytes decide on which side of the 64 KiB limit it ends). Other
//                values, no padding: it costs, so only 1 input in 32 pays for it.
//   chunk sizes  each byte b is one read of b + 1 bytes if b < 128, else (b - 127) * 512;
//                the sizes are used in turn, round and round, after the padding
//   the rest     the byte stream the peer sends
#include <string.h>  // memrchr

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "common/protocol.h"
#include "tests/fuzz/fuzz_check.h"

namespace protocol = twofactor::protocol;
using protocol::FrameReader;
using protocol::json;
using protocol::kMaxMessage;
using Status = FrameReader::Status;

namespace {

constexpr std::size_t kPadding = kMaxMessage - 512;

std::size_t padding_of(std::uint8_t first_byte) {
    return (first_byte >> 3) == 31 ? kPadding : 0;
}

std::size_t read_size(std::uint8_t b) {
    return b < 128 ? std::size_t{b} + 1 : (std::size_t{b} - 127) * 512;
}

// What a frame (the bytes before its NUL) must decode to, worked out without FrameReader.
struct ExpectedFrame {
    std::size_t end = 0;  // offset in the stream just past the NUL
    Status status = Status::Malformed;
    json message;
};

// How deep the deepest value of a valid JSON text is nested, counted on the text (not on the
// parsed value, where a duplicate key may have replaced a deep value): each value, key or
// opening bracket counts the brackets open around it.
std::size_t nesting_of(std::string_view text) {
    std::size_t open = 0;
    std::size_t deepest = 0;
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (c == ']' || c == '}') {
            --open;
        } else if (c != ' ' && c != '\t' && c != '\n' && c != '\r' && c != ',' && c != ':') {
            deepest = std::max(deepest, open);
            if (c == '[' || c == '{') ++open;
            if (c == '"') {  // skip the string; an escaped character never ends it
                for (++i; text[i] != '"'; ++i) {
                    if (text[i] == '\\') ++i;
                }
            }
        }
    }
    return deepest;
}

// `padding`: how many leading bytes are the padding's spaces, which the model need not parse.
std::vector<ExpectedFrame> model_frames(std::string_view stream, std::size_t padding) {
    std::vector<ExpectedFrame> frames;
    std::size_t start = 0;
    for (std::size_t nul = stream.find('\0'); nul != std::string_view::npos;
         nul = stream.find('\0', start)) {
        ExpectedFrame frame;
        frame.end = nul + 1;
        if (frame.end - start > kMaxMessage) {
            frame.status = Status::TooLarge;
        } else {
            // Leading whitespace changes nothing; skipping the padding keeps padded inputs cheap.
            std::string_view text = stream.substr(start, nul - start);
            if (start == 0) text.remove_prefix(std::min(padding, text.size()));
            json parsed = json::parse(text, nullptr, false);
            if (!parsed.is_discarded() && parsed.is_object() &&
                nesting_of(text) <= protocol::kMaxNesting) {
                frame.status = Status::Message;
                frame.message = std::move(parsed);
            }
        }
        frames.push_back(std::move(frame));
        start = nul + 1;
    }
    return frames;
}

// encode() may refuse a message that grew past the limit (1e5 is re-encoded as 100000.0);
// anything else it returns must be one frame that decodes back to the same value.
void check_round_trip(const json& message) {
    std::string bytes;
    try {
        bytes = protocol::encode(message);
    } catch (const std::length_error&) {
        return;
    }
    FUZZ_CHECK(!bytes.empty() && bytes.size() <= kMaxMessage, "encode() broke the size limit");
    FUZZ_CHECK(bytes.find('\0') == bytes.size() - 1, "encode() made other than one frame");
    FrameReader reader;
    FUZZ_CHECK(reader.feed(bytes), "an encoded message overflowed a fresh reader");
    json decoded;
    FUZZ_CHECK(reader.next(decoded) == Status::Message, "an encoded message did not decode");
    FUZZ_CHECK(decoded == message, "a message changed on its way through encode/decode");
    FUZZ_CHECK(reader.buffered() == 0, "decoding an encoded message left bytes behind");
}

void check_message(const json& message) {
    check_round_trip(message);
    const auto request = protocol::parse_request(message);
    const auto method = message.find("method");
    const auto parameters = message.find("parameters");
    const bool valid = method != message.end() && method->is_string() &&
                       (parameters == message.end() || parameters->is_object());
    FUZZ_CHECK(request.has_value() == valid, "parse_request() misjudged a message");
    if (!request) return;
    FUZZ_CHECK(request->method == method->get<std::string>(), "parse_request() changed the method");
    FUZZ_CHECK(request->parameters.is_object(), "parse_request() gave parameters not an object");
    // The daemon's own messages are built from what it read: the call is round-tripped, the
    // reply and error only checked for shape (their encoding is the same code, and each round
    // trip costs as much as the rest of this target).
    const json call = protocol::make_call(request->method, request->parameters);
    FUZZ_CHECK(protocol::parse_request(call).has_value(), "make_call() made a bad request");
    check_round_trip(call);
    const json reply = protocol::make_reply(request->parameters);
    FUZZ_CHECK(reply.size() == 1 && reply.at("parameters") == request->parameters,
               "make_reply() changed the parameters");
    const json error = protocol::make_error(request->method, request->parameters);
    FUZZ_CHECK(error.size() == 2 && error.at("error") == request->method &&
                   error.at("parameters") == request->parameters,
               "make_error() changed its fields");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    const std::size_t size_count = data[0] & 7u;
    const std::size_t padding = padding_of(data[0]);
    if (size < 1 + size_count) return 0;
    std::vector<std::size_t> reads;
    for (std::size_t i = 0; i < size_count; ++i) reads.push_back(read_size(data[1 + i]));

    std::string stream(padding, ' ');
    stream.append(reinterpret_cast<const char*>(data) + 1 + size_count, size - 1 - size_count);
    if (reads.empty()) reads.push_back(stream.size());
    const std::vector<ExpectedFrame> expected = model_frames(stream, padding);

    FrameReader reader;
    std::size_t fed = 0;        // bytes of the stream given to feed()
    std::size_t consumed = 0;   // bytes taken off by next()
    std::size_t after_nul = 0;  // offset just past the last NUL fed
    std::size_t frame = 0;      // the next expected frame
    for (std::size_t read = 0; fed < stream.size(); ++read) {
        const std::size_t padded = padding > 0 ? 1 : 0;  // the padding is read 0
        const std::size_t wanted = read < padded ? padding : reads[(read - padded) % reads.size()];
        const std::size_t length = std::min(wanted, stream.size() - fed);
        const std::string_view chunk = std::string_view(stream).substr(fed, length);
        // memrchr, not string_view::rfind: the harness's own byte loops would be traced too.
        if (const void* nul = memrchr(chunk.data(), '\0', chunk.size()); nul != nullptr) {
            after_nul =
                fed + static_cast<std::size_t>(static_cast<const char*>(nul) - chunk.data()) + 1;
        }
        fed += length;
        const bool accepted = reader.feed(chunk);
        FUZZ_CHECK(accepted == (fed - after_nul <= kMaxMessage),
                   "feed() misjudged the unterminated data against the limit");
        FUZZ_CHECK(reader.buffered() == fed - consumed, "the reader lost or invented bytes");
        if (!accepted) return 0;  // the peer is cut off

        // At most one message per NUL fed, and one NeedMore to end the round.
        for (;;) {
            json message;
            const Status status = reader.next(message);
            if (status == Status::NeedMore) {
                FUZZ_CHECK(frame == expected.size() || expected[frame].end > fed,
                           "next() asked for more while a whole frame was buffered");
                break;
            }
            FUZZ_CHECK(frame < expected.size() && expected[frame].end <= fed,
                       "next() returned a frame whose NUL has not arrived");
            FUZZ_CHECK(status == expected[frame].status, "next() misjudged a frame");
            consumed = expected[frame].end;
            FUZZ_CHECK(reader.buffered() == fed - consumed, "next() took off the wrong bytes");
            if (status != Status::Message) return 0;  // the connection is closed
            FUZZ_CHECK(message == expected[frame].message, "next() changed a message");
            check_message(message);
            ++frame;
        }
    }
    return 0;
}
