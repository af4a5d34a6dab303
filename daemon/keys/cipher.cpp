// SPDX-License-Identifier: BSD-2-Clause
// AES-256-GCM sealing of secrets and phone numbers before they reach the database.
#include "daemon/keys/cipher.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <algorithm>
#include <climits>
#include <memory>

namespace twofactor {
namespace {

constexpr std::size_t kNonceBytes = 12;  // GCM's native IV size: no extra GHASH step
constexpr std::size_t kTagBytes = 16;    // full-length tag; shorter ones weaken forgery bounds

struct ContextFree {
    void operator()(EVP_CIPHER_CTX* ctx) const { EVP_CIPHER_CTX_free(ctx); }
};
using Context = std::unique_ptr<EVP_CIPHER_CTX, ContextFree>;

Context new_context() {
    Context ctx(EVP_CIPHER_CTX_new());
    if (!ctx) throw std::runtime_error("AES-256-GCM: out of memory");
    return ctx;
}

const unsigned char* bytes(std::string_view s) {
    return reinterpret_cast<const unsigned char*>(s.data());
}

// EVP takes int lengths; anything this large is not a secret or a phone number.
bool fits_int(std::size_t n) {
    return n <= static_cast<std::size_t>(INT_MAX) - 64;
}

}  // namespace

Cipher::Cipher(const std::array<unsigned char, kKeyBytes>& key) : key_(key) {}

Cipher::~Cipher() {
    OPENSSL_cleanse(key_.data(), key_.size());
}

std::string Cipher::seal(std::string_view plaintext, std::string_view associated_data) const {
    if (!fits_int(plaintext.size()) || !fits_int(associated_data.size()))
        throw std::runtime_error("AES-256-GCM: input too large");

    std::string blob(kNonceBytes + plaintext.size() + kTagBytes, '\0');
    auto* out = reinterpret_cast<unsigned char*>(blob.data());
    // A fresh random nonce per message: with one key and 96-bit random nonces, collisions stay
    // negligible far beyond the number of enrollments this database will ever hold.
    if (RAND_bytes(out, static_cast<int>(kNonceBytes)) != 1)
        throw std::runtime_error("AES-256-GCM: the random generator failed");

    Context ctx = new_context();
    int len = 0;
    bool ok = EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr) == 1 &&
              EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, static_cast<int>(kNonceBytes),
                                  nullptr) == 1 &&
              EVP_EncryptInit_ex(ctx.get(), nullptr, nullptr, key_.data(), out) == 1 &&
              EVP_EncryptUpdate(ctx.get(), nullptr, &len, bytes(associated_data),
                                static_cast<int>(associated_data.size())) == 1 &&
              EVP_EncryptUpdate(ctx.get(), out + kNonceBytes, &len, bytes(plaintext),
                                static_cast<int>(plaintext.size())) == 1 &&
              EVP_EncryptFinal_ex(ctx.get(), out + kNonceBytes + len, &len) == 1 &&
              EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, static_cast<int>(kTagBytes),
                                  out + kNonceBytes + plaintext.size()) == 1;
    if (!ok) throw std::runtime_error("AES-256-GCM: encryption failed");
    return blob;
}

std::optional<SecureString> Cipher::open(std::string_view blob,
                                         std::string_view associated_data) const {
    if (blob.size() < kNonceBytes + kTagBytes) return std::nullopt;
    if (!fits_int(blob.size()) || !fits_int(associated_data.size())) return std::nullopt;

    const std::size_t text_size = blob.size() - kNonceBytes - kTagBytes;
    const unsigned char* nonce = bytes(blob);
    const unsigned char* ciphertext = nonce + kNonceBytes;
    // EVP wants a writable tag buffer.
    std::array<unsigned char, kTagBytes> tag{};
    std::copy_n(ciphertext + text_size, kTagBytes, tag.begin());

    std::string plain(text_size, '\0');
    auto* out = reinterpret_cast<unsigned char*>(plain.data());
    Context ctx = new_context();
    int len = 0;
    bool ok =
        EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr) == 1 &&
        EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, static_cast<int>(kNonceBytes),
                            nullptr) == 1 &&
        EVP_DecryptInit_ex(ctx.get(), nullptr, nullptr, key_.data(), nonce) == 1 &&
        EVP_DecryptUpdate(ctx.get(), nullptr, &len, bytes(associated_data),
                          static_cast<int>(associated_data.size())) == 1 &&
        EVP_DecryptUpdate(ctx.get(), out, &len, ciphertext, static_cast<int>(text_size)) == 1 &&
        EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, static_cast<int>(kTagBytes),
                            tag.data()) == 1 &&
        // Verifies the tag: the only step that tells an authentic blob from a forged one.
        EVP_DecryptFinal_ex(ctx.get(), out + len, &len) == 1;
    if (!ok) {
        wipe(plain);
        return std::nullopt;
    }
    // Copy, then cleanse: moving a short string would leave its bytes in `plain`'s inline buffer.
    // Built in place so that no SecureString is moved on the way out either.
    std::optional<SecureString> result(std::in_place, std::string_view(plain));
    wipe(plain);
    return result;
}

std::string Cipher::mac(std::string_view purpose, std::string_view message) const {
    if (!fits_int(purpose.size()) || !fits_int(message.size()))
        throw std::runtime_error("HMAC-SHA256: input too large");
    std::array<unsigned char, EVP_MAX_MD_SIZE> derived{};
    unsigned int derived_size = 0;
    std::string tag(32, '\0');
    unsigned int tag_size = 0;
    const bool ok =
        HMAC(EVP_sha256(), key_.data(), static_cast<int>(key_.size()), bytes(purpose),
             purpose.size(), derived.data(), &derived_size) != nullptr &&
        HMAC(EVP_sha256(), derived.data(), static_cast<int>(derived_size), bytes(message),
             message.size(), reinterpret_cast<unsigned char*>(tag.data()), &tag_size) != nullptr &&
        tag_size == tag.size();
    OPENSSL_cleanse(derived.data(), derived.size());
    if (!ok) throw std::runtime_error("HMAC-SHA256 failed");
    return tag;
}

bool Cipher::mac_matches(std::string_view purpose, std::string_view message,
                         std::string_view tag) const {
    const std::string expected = mac(purpose, message);
    return tag.size() == expected.size() &&
           CRYPTO_memcmp(tag.data(), expected.data(), expected.size()) == 0;
}

}  // namespace twofactor
