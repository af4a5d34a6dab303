// SPDX-License-Identifier: BSD-2-Clause
// AES-256-GCM for secrets and phone numbers at rest; the user name is the associated data, so a
// row copied onto another user does not decrypt. HMAC-SHA256 under keys derived from the same
// key for rows that are stored in clear but must not be written without it (trusts).
#pragma once

#include <array>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include "common/secure.h"

namespace twofactor {

inline constexpr std::size_t kKeyBytes = 32;

class KeyError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

class Cipher {
public:
    explicit Cipher(const std::array<unsigned char, kKeyBytes>& key);
    ~Cipher();
    Cipher(const Cipher&) = delete;
    Cipher& operator=(const Cipher&) = delete;

    // nonce (12 bytes) || ciphertext || tag (16 bytes). Throws std::runtime_error on failure.
    std::string seal(std::string_view plaintext, std::string_view associated_data) const;

    // nullopt when the blob was altered, belongs to other associated data or another key.
    std::optional<SecureString> open(std::string_view blob, std::string_view associated_data) const;

    // HMAC-SHA256 of `message` under HMAC-SHA256(key, purpose): one key per purpose, none of
    // them the data key, so a MAC made for one purpose means nothing for another. 32 bytes.
    std::string mac(std::string_view purpose, std::string_view message) const;
    // Whether `tag` is mac(purpose, message), compared in constant time.
    bool mac_matches(std::string_view purpose, std::string_view message,
                     std::string_view tag) const;

private:
    std::array<unsigned char, kKeyBytes> key_;
};

// Reads a key file holding exactly 32 bytes (raw) or 64 hex digits (and an optional newline).
// Throws KeyError naming the path and the problem; never replaces an existing file.
std::array<unsigned char, kKeyBytes> read_key_file(const std::string& path);

// Creates the file with 32 random bytes, mode 0600, failing if it already exists (O_EXCL).
// Throws KeyError on failure.
void create_key_file(const std::string& path);

// True when load_key would read a key rather than create one.
bool key_exists(const std::string& key_file);
// Names the key load_key reads, for messages: "credential twofactord.key" or "key file PATH".
std::string key_name(const std::string& key_file);

// The key from $CREDENTIALS_DIRECTORY/twofactord.key if systemd passed one, else from key_file,
// creating key_file when it does not exist. Throws KeyError.
std::array<unsigned char, kKeyBytes> load_key(const std::string& key_file);

}  // namespace twofactor
