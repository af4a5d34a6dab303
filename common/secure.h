// SPDX-License-Identifier: BSD-2-Clause
// Memory that held a secret or a code is overwritten before it is given back.
#pragma once

// explicit_bzero, not OPENSSL_cleanse: the PAM module uses this header, and a libcrypto
// dependency would make every program that loads the module map and relocate libcrypto.
#include <string.h>

#include <string>
#include <string_view>

namespace twofactor {

// A string whose bytes are cleansed when it dies or is reassigned.
class SecureString {
public:
    SecureString() = default;
    explicit SecureString(std::string_view s) : value_(s) {}
    explicit SecureString(const char* s) : value_(s) {}
    explicit SecureString(std::string&& s) : value_(s) {
        if (!s.empty()) explicit_bzero(s.data(), s.size());
        s.clear();
    }
    SecureString(const SecureString& other) : value_(other.value_) {}
    // Copies, then wipes the source: moving a short string copies its bytes out of the
    // small-string buffer and would leave them behind.
    SecureString(SecureString&& other) noexcept : value_(other.value_) { other.wipe(); }
    SecureString& operator=(const SecureString& other) {
        if (this != &other) {
            wipe();
            value_ = other.value_;
        }
        return *this;
    }
    SecureString& operator=(SecureString&& other) noexcept {
        if (this != &other) {
            wipe();
            value_ = other.value_;
            other.wipe();
        }
        return *this;
    }
    ~SecureString() { wipe(); }

    std::string_view view() const { return value_; }
    const char* c_str() const { return value_.c_str(); }
    std::size_t size() const { return value_.size(); }
    bool empty() const { return value_.empty(); }

    void wipe() {
        if (!value_.empty()) explicit_bzero(value_.data(), value_.size());
        value_.clear();
    }

private:
    std::string value_;
};

// Wipes a plain std::string in place (for buffers that had to be std::string).
inline void wipe(std::string& s) {
    if (!s.empty()) explicit_bzero(s.data(), s.size());
    s.clear();
}

}  // namespace twofactor
