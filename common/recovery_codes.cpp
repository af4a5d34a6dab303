// SPDX-License-Identifier: BSD-2-Clause
#include "common/recovery_codes.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <array>
#include <stdexcept>

namespace twofactor {
namespace {

// About 3 ms on one core: negligible at a prompt, 2^50 times that for a thief.
constexpr int kHashIterations = 10000;
constexpr std::size_t kHashLength = 32;
constexpr std::size_t kSaltLength = 16;

static_assert(kRecoveryAlphabet.size() == 32, "5 bits per symbol: 256 is a multiple of 32");

void random_bytes(unsigned char* out, std::size_t length) {
    if (RAND_bytes(out, static_cast<int>(length)) != 1)
        throw std::runtime_error("the random number generator failed");
}

}  // namespace

std::vector<SecureString> generate_recovery_codes(std::size_t count) {
    std::vector<SecureString> codes;
    std::array<unsigned char, 2 * kRecoveryHalfLength> random{};
    for (std::size_t i = 0; i < count; ++i) {
        random_bytes(random.data(), random.size());
        std::string code;
        for (std::size_t j = 0; j < random.size(); ++j) {
            if (j == kRecoveryHalfLength) code.push_back('-');
            // 256 is a multiple of 32: every symbol is equally likely.
            code.push_back(kRecoveryAlphabet[random[j] % kRecoveryAlphabet.size()]);
        }
        codes.emplace_back(std::move(code));
    }
    OPENSSL_cleanse(random.data(), random.size());
    return codes;
}

std::string random_salt() {
    std::string salt(kSaltLength, '\0');
    random_bytes(reinterpret_cast<unsigned char*>(salt.data()), salt.size());
    return salt;
}

std::string hash_recovery_code(std::string_view normalized, std::string_view salt) {
    std::string hash(kHashLength, '\0');
    if (PKCS5_PBKDF2_HMAC(normalized.data(), static_cast<int>(normalized.size()),
                          reinterpret_cast<const unsigned char*>(salt.data()),
                          static_cast<int>(salt.size()), kHashIterations, EVP_sha256(),
                          static_cast<int>(hash.size()),
                          reinterpret_cast<unsigned char*>(hash.data())) != 1)
        throw std::runtime_error("PBKDF2 failed");
    return hash;
}

}  // namespace twofactor
