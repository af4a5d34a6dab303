// SPDX-License-Identifier: BSD-2-Clause
// The wire protocol: Varlink framing (one JSON object, then a NUL byte) over a stream socket.
#pragma once

#include <nlohmann/json.hpp>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace twofactor::protocol {

using nlohmann::json;

inline constexpr std::size_t kMaxMessage = 64 * 1024;  // bytes, NUL included
// No call nests deeper than 3 ({"parameters": {"user": ...}}); a frame nested deeper than this
// is Malformed.
inline constexpr std::size_t kMaxNesting = 32;

// How long pam_twofactor.so waits for each answer unless told otherwise (its `timeout`): the
// daemon's Twilio budget must end before it (twofactord warns at start when it would not).
inline constexpr int kDefaultModuleTimeoutSeconds = 30;

// Methods, each "io.twofactor." + name.
namespace method {
inline constexpr const char* GenerateSecret = "io.twofactor.GenerateSecret";
inline constexpr const char* SendCode = "io.twofactor.SendCode";
inline constexpr const char* Enable = "io.twofactor.Enable";
inline constexpr const char* Disable = "io.twofactor.Disable";
inline constexpr const char* Status = "io.twofactor.Status";
inline constexpr const char* Begin = "io.twofactor.Begin";
inline constexpr const char* Complete = "io.twofactor.Complete";
inline constexpr const char* Unlock = "io.twofactor.Unlock";
inline constexpr const char* Forget = "io.twofactor.Forget";
inline constexpr const char* RegenerateRecoveryCodes = "io.twofactor.RegenerateRecoveryCodes";
}  // namespace method

// Errors, each "io.twofactor." + name.
namespace error {
inline constexpr const char* InvalidCode = "io.twofactor.InvalidCode";
inline constexpr const char* NotFound = "io.twofactor.NotFound";
inline constexpr const char* NotEnrolled = "io.twofactor.NotEnrolled";
inline constexpr const char* Locked = "io.twofactor.Locked";
inline constexpr const char* PermissionDenied = "io.twofactor.PermissionDenied";
inline constexpr const char* InvalidParameter = "io.twofactor.InvalidParameter";
inline constexpr const char* DeliveryFailed = "io.twofactor.DeliveryFailed";
inline constexpr const char* RateLimited = "io.twofactor.RateLimited";
inline constexpr const char* MethodNotFound = "io.twofactor.MethodNotFound";
inline constexpr const char* InternalError = "io.twofactor.InternalError";
// The daemon cannot reach its store (PostgreSQL down): the module applies its failmode.
inline constexpr const char* Unavailable = "io.twofactor.Unavailable";
}  // namespace error

// One JSON object and its NUL; throws std::length_error if it would exceed kMaxMessage.
std::string encode(const json& message);

json make_call(std::string_view method, json parameters);
json make_reply(json parameters);
json make_error(std::string_view error, json parameters);

// Accumulates bytes from a stream and yields whole messages.
class FrameReader {
public:
    enum class Status { NeedMore, Message, Malformed, TooLarge };

    // Appends received bytes; returns false once the buffered, unterminated data exceeds
    // kMaxMessage (the caller closes the connection).
    bool feed(std::string_view bytes);

    // Takes the next whole message off the buffer. Malformed means the bytes before the NUL
    // were not one JSON object (bad JSON, bad UTF-8, an array...): the caller closes.
    Status next(json& out);

    std::size_t buffered() const { return buffer_.size(); }

private:
    std::string buffer_;
    // Index just past the last NUL in buffer_ (0 when none): where the unterminated data
    // begins. Kept so a peer sending a byte at a time costs linear, not quadratic, work.
    std::size_t unterminated_from_ = 0;
};

// A validated request: method name and parameters object (empty object when absent).
struct Request {
    std::string method;
    json parameters;
};

// nullopt if the object is not {"method": string, "parameters"?: object}.
std::optional<Request> parse_request(const json& message);

}  // namespace twofactor::protocol
