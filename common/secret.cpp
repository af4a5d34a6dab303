// SPDX-License-Identifier: BSD-2-Clause
// Two-factor secrets. A secret is text whose bytes are the HMAC key, so it has to survive being
// typed, pasted into a shell and stored as JSON: printable ASCII only.
#include "common/secret.h"

#include <openssl/rand.h>

#include <array>
#include <stdexcept>
#include <string>

namespace twofactor {

namespace {

constexpr std::string_view kAlphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

// Longest secret a caller may supply: far beyond any real one, short enough to bound work.
constexpr std::size_t kMaxSecretLength = 256;

// The largest multiple of the alphabet size that fits in a byte. Bytes at or above it are
// thrown away, so every letter is equally likely (a plain modulo would favour the first 8).
constexpr unsigned kAcceptBelow = 256 / kAlphabet.size() * kAlphabet.size();

}  // namespace

SecureString generate_secret() {
    std::string secret;
    secret.reserve(kGeneratedSecretLength);
    std::array<unsigned char, 64> random{};
    // Each byte is accepted with probability 248/256, so a few rounds always suffice; the
    // bound only guards against an RNG that keeps returning rejected bytes.
    for (int round = 0; round < 100 && secret.size() < kGeneratedSecretLength; ++round) {
        if (RAND_bytes(random.data(), static_cast<int>(random.size())) != 1) {
            OPENSSL_cleanse(random.data(), random.size());
            wipe(secret);
            throw std::runtime_error("the random number generator failed");
        }
        for (unsigned char byte : random) {
            if (byte >= kAcceptBelow) continue;
            secret.push_back(kAlphabet[byte % kAlphabet.size()]);
            if (secret.size() == kGeneratedSecretLength) break;
        }
    }
    OPENSSL_cleanse(random.data(), random.size());
    if (secret.size() != kGeneratedSecretLength) {
        wipe(secret);
        throw std::runtime_error("the random number generator returned too few usable bytes");
    }
    return SecureString(std::move(secret));
}

std::optional<std::string> check_secret(std::string_view secret) {
    if (secret.size() < kMinSecretLength) {
        return "The secret is too short: it needs at least " + std::to_string(kMinSecretLength) +
               " characters.";
    }
    if (secret.size() > kMaxSecretLength) {
        return "The secret is too long: it may have at most " + std::to_string(kMaxSecretLength) +
               " characters.";
    }
    for (char c : secret) {
        const auto byte = static_cast<unsigned char>(c);
        if (byte == ' ' || byte == '\t' || byte == '\n' || byte == '\r' || byte == '\v' ||
            byte == '\f') {
            return std::string("The secret has a space or other whitespace in it.");
        }
        if (byte < 0x21 || byte > 0x7e) {
            return std::string(
                "The secret has a character that is not printable ASCII (letters, digits and "
                "punctuation only).");
        }
    }
    return std::nullopt;
}

}  // namespace twofactor
