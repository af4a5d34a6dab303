// SPDX-License-Identifier: BSD-2-Clause
// Varlink framing: one JSON object, then a NUL. Everything read here comes from another
// process, possibly a hostile one, so no input may throw past this file or grow without bound.
#include "common/protocol.h"

#include <stdexcept>

namespace twofactor::protocol {

namespace {

json object_or_empty(json parameters) {
    return parameters.is_null() ? json::object() : std::move(parameters);
}

}  // namespace

std::string encode(const json& message) {
    // Strings the daemon sends come from valid JSON or its own text; should one ever hold
    // invalid UTF-8, replacing the bytes beats throwing a type error on the login path.
    std::string text = message.dump(-1, ' ', false, json::error_handler_t::replace);
    if (text.size() + 1 > kMaxMessage) {
        throw std::length_error("protocol message of " + std::to_string(text.size() + 1) +
                                " bytes exceeds the limit of " + std::to_string(kMaxMessage));
    }
    text.push_back('\0');
    return text;
}

json make_call(std::string_view method, json parameters) {
    return json{{"method", std::string(method)},
                {"parameters", object_or_empty(std::move(parameters))}};
}

json make_reply(json parameters) {
    return json{{"parameters", object_or_empty(std::move(parameters))}};
}

json make_error(std::string_view error, json parameters) {
    return json{{"error", std::string(error)},
                {"parameters", object_or_empty(std::move(parameters))}};
}

bool FrameReader::feed(std::string_view bytes) {
    const std::size_t old_size = buffer_.size();
    buffer_.append(bytes);
    // Only the new bytes can hold a NUL not seen before.
    if (const std::size_t last = bytes.rfind('\0'); last != std::string_view::npos) {
        unterminated_from_ = old_size + last + 1;
    }
    return buffer_.size() - unterminated_from_ <= kMaxMessage;
}

FrameReader::Status FrameReader::next(json& out) {
    if (unterminated_from_ == 0) {
        return buffer_.size() > kMaxMessage ? Status::TooLarge : Status::NeedMore;
    }
    // unterminated_from_ > 0, so a NUL exists and this finds the first message's end; the
    // scan covers only bytes that are consumed right after, which keeps the total linear.
    const std::size_t nul = buffer_.find('\0');
    const std::size_t frame_size = nul + 1;

    Status status = Status::Message;
    if (frame_size > kMaxMessage) {
        status = Status::TooLarge;
    } else {
        try {
            // nlohmann::json copies and prints values recursively: a message nested thousands
            // deep still fits in 64 KiB and would overflow a stack later. Refused while parsing.
            auto limit_depth = [](int depth, json::parse_event_t, json&) {
                if (depth > static_cast<int>(kMaxNesting))
                    throw std::length_error("message nested too deep");
                return true;
            };
            json parsed =
                json::parse(buffer_.begin(), buffer_.begin() + static_cast<long>(nul), limit_depth);
            if (parsed.is_object()) {
                out = std::move(parsed);
            } else {
                status = Status::Malformed;
            }
        } catch (const std::exception&) {
            // parse_error for bad JSON or bad UTF-8, out_of_range for numbers that overflow,
            // length_error for absurd nesting: each means this peer is not speaking the protocol.
            status = Status::Malformed;
        }
    }
    buffer_.erase(0, frame_size);
    unterminated_from_ -= frame_size;
    return status;
}

std::optional<Request> parse_request(const json& message) {
    if (!message.is_object()) return std::nullopt;
    const auto method = message.find("method");
    if (method == message.end() || !method->is_string()) return std::nullopt;

    Request request;
    request.method = method->get<std::string>();
    const auto parameters = message.find("parameters");
    if (parameters == message.end()) {
        request.parameters = json::object();
    } else if (parameters->is_object()) {
        request.parameters = *parameters;
    } else {
        return std::nullopt;
    }
    return request;
}

}  // namespace twofactor::protocol
