// SPDX-License-Identifier: BSD-2-Clause
#include "daemon/keys/sealing.h"

#include <algorithm>
#include <limits>

namespace twofactor {

const char* delivery_name(Delivery d) {
    return d == Delivery::TextMessage ? "TextMessage" : "None";
}

std::optional<Delivery> parse_delivery(std::string_view name) {
    if (name == "TextMessage") return Delivery::TextMessage;
    if (name == "None") return Delivery::None;
    return std::nullopt;
}

namespace sealing {
namespace {

// The user name is the associated data, so a blob copied onto another user's row does not
// decrypt. The column name is bound in too: otherwise a row's sealed phone number, which an
// attacker may know in clear, could be swapped into its secret column and would decrypt there.
std::string associated_data(std::string_view column, const std::string& user) {
    std::string aad = "twofactord users.";
    aad += column;
    aad += '\0';  // the prefix is fixed, so this separator keeps every (column, user) distinct
    aad += user;
    return aad;
}

[[noreturn]] void fail_decrypt(const std::string& user) {
    throw StoreError("enrollment for " + user + " does not decrypt: wrong key or damaged database");
}

}  // namespace

SealedEnrollment seal(const Cipher& cipher, const Enrollment& e) {
    if (e.delivery == Delivery::TextMessage && e.mobile_phone.empty())
        throw StoreError("enrollment for " + e.user +
                         ": delivery TextMessage needs a phone number");
    SealedEnrollment sealed;
    sealed.secret = cipher.seal(e.secret.view(), associated_data("secret", e.user));
    if (!e.mobile_phone.empty())
        sealed.phone = cipher.seal(e.mobile_phone, associated_data("phone", e.user));
    return sealed;
}

Enrollment open(const Cipher& cipher, const std::string& user, std::string_view secret,
                std::optional<std::string_view> phone, std::string_view delivery,
                std::int64_t enabled_at) {
    Enrollment e;
    e.user = user;
    auto opened = cipher.open(secret, associated_data("secret", user));
    if (!opened) fail_decrypt(user);
    e.secret = std::move(*opened);
    if (phone) {
        auto number = cipher.open(*phone, associated_data("phone", user));
        if (!number) fail_decrypt(user);
        e.mobile_phone = std::string(number->view());
    }
    auto parsed = parse_delivery(delivery);
    if (!parsed)
        throw StoreError("enrollment for " + user + " has unknown delivery \"" +
                         std::string(delivery) + "\"");
    e.delivery = *parsed;
    e.enabled_at = enabled_at;
    return e;
}

std::int64_t step_value(std::uint64_t step) {
    if (step > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
        throw StoreError("time step " + std::to_string(step) + " is out of range");
    return static_cast<std::int64_t>(step);
}

std::int64_t step_bound(std::uint64_t before) {
    constexpr auto kMax = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
    return static_cast<std::int64_t>(std::min(before, kMax));
}

int clamp_int(std::int64_t value) {
    return static_cast<int>(std::clamp<std::int64_t>(value, 0, std::numeric_limits<int>::max()));
}

}  // namespace sealing
}  // namespace twofactor
