// SPDX-License-Identifier: BSD-2-Clause
// HOTP (RFC 4226) and TOTP (RFC 6238) on OpenSSL's HMAC.
#pragma once

#include <cstdint>
#include <ctime>
#include <optional>
#include <string>
#include <string_view>

#include "common/wording.h"  // kCodeDigits, is_code_shaped

namespace twofactor {

enum class HashAlgorithm { Sha1, Sha256, Sha512 };

inline constexpr int kStepSeconds = 30;

// The truncated HOTP value reduced modulo 10^digits.
std::uint32_t hotp(std::string_view key, std::uint64_t counter, int digits = kCodeDigits,
                   HashAlgorithm algorithm = HashAlgorithm::Sha1);

// Zero-padded decimal form of a code.
std::string format_code(std::uint32_t value, int digits = kCodeDigits);

// The TOTP time step for a Unix time (T0 = 0).
std::uint64_t totp_step(std::int64_t unix_time, int step_seconds = kStepSeconds);

// The 6-digit SHA1 code of a step, as text.
std::string totp_code(std::string_view key, std::uint64_t step);

// The step within one of the current one, either way (an authenticator app's clock drifts),
// whose code `code` is; nullopt when it is none of theirs.
std::optional<std::uint64_t> app_code_step(std::string_view key, std::string_view code,
                                           std::int64_t now);

// Constant-time equality for codes of the same or different lengths.
bool codes_equal(std::string_view a, std::string_view b);

}  // namespace twofactor
