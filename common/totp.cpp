// SPDX-License-Identifier: BSD-2-Clause
// HOTP (RFC 4226) and TOTP (RFC 6238): the codes that are texted and that authenticator
// apps show for the same secret.
#include "common/totp.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <array>
#include <stdexcept>

namespace twofactor {

namespace {

const EVP_MD* digest_of(HashAlgorithm algorithm) {
    switch (algorithm) {
        case HashAlgorithm::Sha1:
            return EVP_sha1();
        case HashAlgorithm::Sha256:
            return EVP_sha256();
        case HashAlgorithm::Sha512:
            return EVP_sha512();
    }
    throw std::invalid_argument("unknown hash algorithm");
}

std::uint32_t power_of_ten(int digits) {
    std::uint32_t value = 1;
    for (int i = 0; i < digits; ++i) value *= 10;
    return value;
}

}  // namespace

std::uint32_t hotp(std::string_view key, std::uint64_t counter, int digits,
                   HashAlgorithm algorithm) {
    // 9 digits is the most a 31-bit truncated value can fill; RFC 4226 asks for at least 6.
    if (digits < 1 || digits > 9) throw std::invalid_argument("HOTP digits must be 1 to 9");

    std::array<unsigned char, 8> message{};
    for (int i = 7; i >= 0; --i) {
        message[static_cast<std::size_t>(i)] = static_cast<unsigned char>(counter & 0xff);
        counter >>= 8;
    }

    std::array<unsigned char, EVP_MAX_MD_SIZE> mac{};
    unsigned int mac_length = 0;
    // An empty key is legal HMAC; OpenSSL wants a non-null pointer for it.
    static const unsigned char kEmpty = 0;
    const void* key_data = key.empty() ? static_cast<const void*>(&kEmpty) : key.data();
    if (HMAC(digest_of(algorithm), key_data, static_cast<int>(key.size()), message.data(),
             message.size(), mac.data(), &mac_length) == nullptr) {
        throw std::runtime_error("HMAC failed");
    }

    // Dynamic truncation, RFC 4226 §5.3: the low nibble of the last byte picks 4 bytes.
    const unsigned offset = mac[mac_length - 1] & 0x0f;
    const std::uint32_t binary = (static_cast<std::uint32_t>(mac[offset] & 0x7f) << 24) |
                                 (static_cast<std::uint32_t>(mac[offset + 1]) << 16) |
                                 (static_cast<std::uint32_t>(mac[offset + 2]) << 8) |
                                 static_cast<std::uint32_t>(mac[offset + 3]);
    OPENSSL_cleanse(mac.data(), mac.size());
    return binary % power_of_ten(digits);
}

std::string format_code(std::uint32_t value, int digits) {
    std::string text(static_cast<std::size_t>(digits > 0 ? digits : 0), '0');
    for (auto it = text.rbegin(); it != text.rend(); ++it) {
        *it = static_cast<char>('0' + value % 10);
        value /= 10;
    }
    return text;
}

std::uint64_t totp_step(std::int64_t unix_time, int step_seconds) {
    if (step_seconds <= 0) throw std::invalid_argument("TOTP step must be positive");
    // Times before 1970 have no step; they clamp to step 0 rather than wrap around.
    if (unix_time < 0) return 0;
    return static_cast<std::uint64_t>(unix_time) / static_cast<std::uint64_t>(step_seconds);
}

std::string totp_code(std::string_view key, std::uint64_t step) {
    return format_code(hotp(key, step, kCodeDigits, HashAlgorithm::Sha1), kCodeDigits);
}

bool codes_equal(std::string_view a, std::string_view b) {
    // Compare over a's length whatever b holds, so the time spent says nothing about where
    // the texts first differ; a length mismatch is folded in at the end.
    std::string padded_b(a.size(), '\0');
    for (std::size_t i = 0; i < a.size() && i < b.size(); ++i) padded_b[i] = b[i];
    const int difference = a.empty() ? 0 : CRYPTO_memcmp(a.data(), padded_b.data(), a.size());
    OPENSSL_cleanse(padded_b.data(), padded_b.size());
    return difference == 0 && a.size() == b.size();
}

std::optional<std::uint64_t> app_code_step(std::string_view key, std::string_view code,
                                           std::int64_t now) {
    const std::uint64_t current = totp_step(now);
    for (std::uint64_t step = current - 1; step <= current + 1; ++step)
        if (codes_equal(code, totp_code(key, step))) return step;
    return std::nullopt;
}

}  // namespace twofactor
