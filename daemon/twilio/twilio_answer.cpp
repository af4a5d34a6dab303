// SPDX-License-Identifier: BSD-2-Clause
// Twilio's answers are read with nlohmann's SAX interface rather than into a DOM: only the few
// top-level fields we use are kept, depth costs no recursion, and every string the lexer hands
// us can be wiped in place (a 201 answer echoes the text, and so the code).
#include "daemon/twilio/twilio_answer.h"

#include <openssl/crypto.h>

#include <algorithm>
#include <climits>
#include <cstdint>
#include <exception>
#include <nlohmann/json.hpp>
#include <string>

namespace twofactor {
namespace {

using nlohmann::json;

bool is_plausible_sid(const std::string& sid) {
    if (sid.size() < 2 || sid.size() > 64) return false;
    for (char c : sid) {
        bool alnum = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
        if (!alnum) return false;
    }
    return true;
}

// A top-level field we read, and whether it was there with the wrong type.
template <typename T>
struct Field {
    bool present = false;
    bool wrong_type = false;
    T value{};
};

class AnswerReader final : public nlohmann::json_sax<json> {
public:
    bool top_is_object = false;
    Field<std::int64_t> code;
    Field<std::string> message;
    Field<std::string> sid;
    Field<std::string> status;

    bool null() override { return other_value(); }
    bool boolean(bool) override { return other_value(); }
    bool number_integer(number_integer_t value) override { return integer(value); }
    bool number_unsigned(number_unsigned_t value) override {
        if (value > static_cast<number_unsigned_t>(INT64_MAX)) return other_value();
        return integer(static_cast<std::int64_t>(value));
    }
    bool number_float(number_float_t, const string_t&) override { return other_value(); }
    bool string(string_t& value) override {
        if (depth_ == 1) {
            if (pending_ == Key::Message) {
                message = {true, false, sanitize_twilio_text(value)};
            } else if (pending_ == Key::Sid) {
                sid = {true, false, value};
            } else if (pending_ == Key::Status) {
                status = {true, false, value.size() <= 32 ? value : std::string()};
            } else if (pending_ == Key::Code) {
                code = {true, true, 0};
            }
            pending_ = Key::None;
        }
        cleanse(value);
        return true;
    }
    bool binary(binary_t&) override { return other_value(); }
    bool start_object(std::size_t) override {
        if (depth_ == 0) top_is_object = true;
        return open();
    }
    bool key(string_t& name) override {
        if (depth_ == 1) {
            if (name == "code")
                pending_ = Key::Code;
            else if (name == "message")
                pending_ = Key::Message;
            else if (name == "sid")
                pending_ = Key::Sid;
            else if (name == "status")
                pending_ = Key::Status;
            else
                pending_ = Key::None;
        }
        cleanse(name);
        return true;
    }
    bool end_object() override { return close(); }
    bool start_array(std::size_t) override { return open(); }
    bool end_array() override { return close(); }
    bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) override {
        return false;
    }

private:
    enum class Key { None, Code, Message, Sid, Status };

    static void cleanse(string_t& s) {
        if (!s.empty()) OPENSSL_cleanse(s.data(), s.size());
    }

    // A value that is not what the pending key expects.
    void mark_wrong_type() {
        if (pending_ == Key::Code) code = {true, true, 0};
        if (pending_ == Key::Message) message = {true, true, {}};
        if (pending_ == Key::Sid) sid = {true, true, {}};
        if (pending_ == Key::Status) status = {true, true, {}};
        pending_ = Key::None;
    }
    bool other_value() {
        if (depth_ == 1) mark_wrong_type();
        return true;
    }
    bool integer(std::int64_t value) {
        if (depth_ != 1) return true;
        if (pending_ == Key::Code && value >= 0 && value <= INT_MAX) {
            code = {true, false, value};
            pending_ = Key::None;
            return true;
        }
        mark_wrong_type();
        return true;
    }
    bool open() {
        if (depth_ == 1) mark_wrong_type();
        ++depth_;
        return true;
    }
    bool close() {
        --depth_;
        return true;
    }

    int depth_ = 0;
    Key pending_ = Key::None;
};

std::string answered(int status, const char* rest) {
    return "Twilio answered " + std::to_string(status) + rest;
}

void read_success(const AnswerReader& reader, SmsResult& result) {
    if (!reader.sid.present) {
        result.message = answered(result.http_status, " without a message sid");
    } else if (reader.sid.wrong_type || !is_plausible_sid(reader.sid.value)) {
        result.message = answered(result.http_status, " with a message sid that is not valid");
    } else {
        result.accepted = true;
        result.sid = reader.sid.value;
    }
    if (reader.status.present && !reader.status.wrong_type) result.status = reader.status.value;
}

void read_error(const AnswerReader& reader, SmsResult& result) {
    if (reader.code.present && !reader.code.wrong_type) {
        result.twilio_code = static_cast<int>(reader.code.value);
    }
    if (reader.message.present && !reader.message.wrong_type && !reader.message.value.empty()) {
        result.message = reader.message.value;
    } else if (reader.message.wrong_type) {
        result.message = answered(result.http_status, " with an error message that is not text");
    } else {
        result.message = answered(result.http_status, " without an error message");
    }
}

}  // namespace

std::string sanitize_twilio_text(std::string_view text) {
    std::string out;
    out.reserve(std::min(text.size(), kMaxTwilioText));
    std::size_t i = 0;
    while (i < text.size() && out.size() < kMaxTwilioText) {
        if (text[i] >= '0' && text[i] <= '9') {
            std::size_t end = i;
            while (end < text.size() && text[end] >= '0' && text[end] <= '9') ++end;
            std::size_t length = end - i;
            if (length >= 7) {
                out.append(length - 4, '*');
                out.append(text.substr(end - 4, 4));
            } else {
                out.append(text.substr(i, length));
            }
            i = end;
            continue;
        }
        auto byte = static_cast<unsigned char>(text[i]);
        out.push_back(byte < 0x20 || byte == 0x7f ? ' ' : text[i]);
        ++i;
    }
    if (out.size() > kMaxTwilioText) out.resize(kMaxTwilioText);
    // Never end inside a UTF-8 sequence: drop a trailing character whose bytes were cut.
    if (i < text.size()) {
        auto byte = [&](std::size_t at) { return static_cast<unsigned char>(out[at]); };
        std::size_t start = out.size();
        std::size_t continuations = 0;
        while (start > 0 && (byte(start - 1) & 0xC0) == 0x80 && continuations < 3) {
            --start;
            ++continuations;
        }
        if (start > 0 && byte(start - 1) >= 0xC0) {
            unsigned char lead = byte(start - 1);
            std::size_t needed = lead >= 0xF0 ? 3 : lead >= 0xE0 ? 2 : 1;
            if (needed != continuations) out.resize(start - 1);
        } else if (continuations > 0) {
            out.resize(start);
        }
    }
    return out;
}

SmsResult parse_twilio_answer(long http_status, std::string_view body, long success) {
    SmsResult result;
    if (http_status < 100 || http_status > 599) {
        result.message = "Twilio gave no valid HTTP status";
        return result;
    }
    result.http_status = static_cast<int>(http_status);
    if (http_status < 200 || (http_status >= 300 && http_status < 400)) {
        result.message = answered(result.http_status,
                                  ", which the Messages API never answers (redirects are not "
                                  "followed)");
        return result;
    }
    if (http_status != success && http_status < 300) {
        result.message = answered(
            result.http_status,
            success == 201 ? " instead of 201 Created: the message may not have been queued"
                           : " instead of 200 OK");
        return result;
    }
    if (body.empty()) {
        result.message = answered(result.http_status, " with an empty body");
        return result;
    }

    AnswerReader reader;
    bool parsed = false;
    try {
        parsed = json::sax_parse(body.begin(), body.end(), &reader);
    } catch (const std::exception&) {
        parsed = false;  // out of memory: the body is as unusable as bad JSON
    }
    if (!parsed) {
        result.message = answered(result.http_status, " with a body that is not JSON");
    } else if (!reader.top_is_object) {
        result.message = answered(result.http_status, " with JSON that is not an object");
    } else if (http_status == success) {
        read_success(reader, result);
        // A verification check is taken only when Twilio approved the code.
        if (success == 200 && result.accepted && result.status != "approved") {
            result.accepted = false;
            result.message =
                result.status == "pending"
                    ? "the code is wrong"
                    : answered(result.http_status, " with a status other than approved");
        }
    } else {
        read_error(reader, result);
    }
    return result;
}

}  // namespace twofactor
