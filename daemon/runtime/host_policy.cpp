// SPDX-License-Identifier: BSD-2-Clause
#include "daemon/runtime/host_policy.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <ctime>
#include <set>
#include <stdexcept>

namespace twofactor {
namespace {

namespace method = protocol::method;
namespace err = protocol::error;

protocol::json denied(const std::string& why) {
    return protocol::make_error(err::PermissionDenied, {{"message", why}});
}

protocol::json not_found(const std::string& id) {
    return protocol::make_error(
        err::NotFound, {{"twoFactorId", id.substr(0, 64)},
                        {"message", "the two-factor challenge is unknown, used up or expired"}});
}

// What root on a host may learn from Status: whether the user is enrolled or locked.
const std::set<std::string> kRootStatusFields = {"user", "enabled", "delivery", "locked",
                                                 "lockedUntil"};

}  // namespace

HostPolicy::HostPolicy(const std::array<unsigned char, kKeyBytes>& data_key,
                       const ListenSettings& limits)
    : logins_(limits.logins_per_host_per_minute, 60), texts_(limits.texts_per_host_per_minute, 60) {
    // A key of its own for the binding, derived from the data key: never the data key itself.
    static constexpr char kLabel[] = "twofactord: twoFactorId bound to a host";
    unsigned int length = 0;
    if (HMAC(EVP_sha256(), data_key.data(), static_cast<int>(data_key.size()),
             reinterpret_cast<const unsigned char*>(kLabel), sizeof(kLabel) - 1, key_.data(),
             &length) == nullptr ||
        length != key_.size())
        throw std::runtime_error("cannot derive the key that binds challenges to hosts");
}

HostPolicy::~HostPolicy() {
    OPENSSL_cleanse(key_.data(), key_.size());
}

std::string HostPolicy::mac(const std::string& host, const std::string& id) const {
    const std::string message = host + '\0' + id;
    unsigned char digest[32];
    unsigned int length = 0;
    HMAC(EVP_sha256(), key_.data(), static_cast<int>(key_.size()),
         reinterpret_cast<const unsigned char*>(message.data()), message.size(), digest, &length);
    static constexpr char kAlphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    // 22 characters, 6 bits each: 132 bits of the MAC.
    std::string text;
    unsigned int acc = 0;
    int bits = 0;
    for (unsigned char byte : digest) {
        acc = (acc << 8) | byte;
        bits += 8;
        while (bits >= 6 && text.size() < 22) {
            bits -= 6;
            text += kAlphabet[(acc >> bits) & 0x3f];
        }
    }
    return text;
}

std::string HostPolicy::bind(const std::string& host, const std::string& id) const {
    return id + "." + mac(host, id);
}

std::optional<std::string> HostPolicy::unbind(const std::string& host,
                                              const std::string& bound) const {
    const auto dot = bound.rfind('.');
    if (dot == std::string::npos || bound.size() > 128) return std::nullopt;
    const std::string id = bound.substr(0, dot);
    const std::string given = bound.substr(dot + 1);
    const std::string expected = mac(host, id);
    if (given.size() != expected.size() ||
        CRYPTO_memcmp(given.data(), expected.data(), expected.size()) != 0)
        return std::nullopt;
    return id;
}

std::optional<protocol::json> HostPolicy::limit(const Caller& caller, const std::string& m) {
    const bool login = m == method::Begin;
    const bool may_text = login || m == method::SendCode;
    if (!may_text) return std::nullopt;
    const auto now = static_cast<std::int64_t>(std::time(nullptr));
    if (now - last_sweep_ >= 60) {
        logins_.sweep(now);
        texts_.sweep(now);
        last_sweep_ = now;
    }
    std::int64_t wait = texts_.retry_after(caller.host, now);
    if (login) wait = std::max(wait, logins_.retry_after(caller.host, now));
    if (wait > 0)
        return protocol::make_error(
            err::RateLimited,
            {{"retryAfter", wait},
             {"message", "this host started too many logins or texts; try again later"}});
    texts_.record(caller.host, now);
    if (login) logins_.record(caller.host, now);
    return std::nullopt;
}

std::optional<protocol::json> HostPolicy::admit(const Caller& caller, protocol::Request& request) {
    const std::string& m = request.method;
    auto& p = request.parameters;
    if (caller.is_root()) {
        const bool resend = m == method::SendCode && p.contains("twoFactorId") &&
                            !p.contains("mobilePhone") && !p.contains("secret");
        if (m != method::Begin && m != method::Complete && m != method::Status && !resend)
            return denied(
                "a login host's root may start, resend and complete logins and ask a user's "
                "status; administer users on a server");
    } else {
        if (caller.user.empty()) return denied("the host's caller has no user name");
        if (m == method::Unlock) return denied("only an administrator on a server may unlock");
    }
    if (auto refusal = limit(caller, m)) return refusal;
    if (auto id = p.find("twoFactorId"); id != p.end() && id->is_string()) {
        const auto raw = unbind(caller.host, id->get<std::string>());
        if (!raw) return not_found(id->get<std::string>());
        *id = *raw;
    }
    return std::nullopt;
}

void HostPolicy::shape_answer(const Caller& caller, const std::string& m,
                              protocol::json& answer) const {
    auto parameters = answer.find("parameters");
    if (parameters == answer.end() || !parameters->is_object()) return;
    if (auto id = parameters->find("twoFactorId"); id != parameters->end() && id->is_string())
        *id = bind(caller.host, id->get<std::string>());
    if (caller.is_root() && m == method::Status && !answer.contains("error")) {
        for (auto it = parameters->begin(); it != parameters->end();) {
            if (kRootStatusFields.count(it.key()))
                ++it;
            else
                it = parameters->erase(it);
        }
    }
}

}  // namespace twofactor
