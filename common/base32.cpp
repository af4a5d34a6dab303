// SPDX-License-Identifier: BSD-2-Clause
// RFC 4648 base32: the form authenticator apps expect for a secret.
#include "common/base32.h"

#include <cstdint>

namespace twofactor {

namespace {

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

// The 5-bit value of a base32 letter, or -1 when the character is not one.
int letter_value(char c) {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a';
    if (c >= '2' && c <= '7') return c - '2' + 26;
    return -1;
}

// Padding is only valid when the data part of the last 8-letter block has one of the
// lengths that whole bytes produce (2, 4, 5, 7 letters, or a full block).
bool valid_tail_length(std::size_t letters_in_last_block) {
    switch (letters_in_last_block) {
        case 0:
        case 2:
        case 4:
        case 5:
        case 7:
            return true;
        default:
            return false;
    }
}

}  // namespace

std::string base32_encode(std::string_view bytes) {
    std::string out;
    out.reserve((bytes.size() + 4) / 5 * 8);
    std::uint32_t buffer = 0;
    int bits = 0;
    for (unsigned char byte : bytes) {
        buffer = (buffer << 8) | byte;
        bits += 8;
        while (bits >= 5) {
            bits -= 5;
            out.push_back(kAlphabet[(buffer >> bits) & 0x1f]);
        }
        buffer &= (1u << bits) - 1;  // keep only the bits not yet written
    }
    if (bits > 0) out.push_back(kAlphabet[(buffer << (5 - bits)) & 0x1f]);
    while (out.size() % 8 != 0) out.push_back('=');
    return out;
}

std::optional<std::string> base32_decode(std::string_view text) {
    std::string letters;
    std::size_t padding = 0;
    for (char c : text) {
        if (c == ' ') continue;
        if (c == '=') {
            ++padding;
            continue;
        }
        if (padding > 0) return std::nullopt;  // data after padding
        if (letter_value(c) < 0) return std::nullopt;
        letters.push_back(c);
    }
    if (!valid_tail_length(letters.size() % 8)) return std::nullopt;
    if (padding > 0 && (letters.size() + padding) % 8 != 0) return std::nullopt;
    if (padding >= 8) return std::nullopt;

    std::string out;
    out.reserve(letters.size() * 5 / 8);
    std::uint32_t buffer = 0;
    int bits = 0;
    for (char c : letters) {
        buffer = (buffer << 5) | static_cast<std::uint32_t>(letter_value(c));
        bits += 5;
        if (bits >= 8) {
            bits -= 8;
            out.push_back(static_cast<char>((buffer >> bits) & 0xff));
            buffer &= (1u << bits) - 1;
        }
    }
    // Leftover bits must be zero, or the text is not what any encoder writes.
    if (buffer != 0) return std::nullopt;
    return out;
}

}  // namespace twofactor
