// SPDX-License-Identifier: BSD-2-Clause
// One benchmark login: pam_start_confdir(), pam_authenticate(), pam_end() for one user, with a
// conversation that answers the prompt the way that user's code arrives (texted, from an
// authenticator app, or no prompt at all), and timestamps for the report.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace twofactor::bench {

// How a user's code is obtained when the module prompts for it.
enum class CodeSource {
    Texted,  // the endpoint wrote the last code texted to `value` (a number) to codes_dir/value
    Totp,    // RFC 6238 of the key `value` (hex) at the moment of the prompt
    None,    // no prompt is expected (pam_permit): a prompt is answered with nothing
};

struct BenchUser {
    std::string name;
    CodeSource source = CodeSource::None;
    std::string value;  // the number, or the key's bytes (decoded from hex)
};

// Reads "NAME text NUMBER", "NAME totp HEXKEY" or "NAME none -" lines; throws
// std::runtime_error naming the line that is wrong.
std::vector<BenchUser> read_users(const std::string& path);

// What one login did, in a fixed-size form so it can live in memory shared across processes.
struct LoginRecord {
    std::int64_t started_ns = 0;            // before pam_start, CLOCK_MONOTONIC
    std::int64_t authenticate_ns = 0;       // before pam_authenticate
    std::int64_t authenticate_unix_us = 0;  // the same moment, CLOCK_REALTIME (to match logs)
    std::int64_t prompt_ns = 0;             // the first prompt reached the conversation (0: none)
    std::int64_t ended_ns = 0;              // after pam_end
    std::int32_t pam_status = -1;           // pam_authenticate's result
    std::int32_t user_index = -1;
    char last_message[112] = {};  // the last error or info text the module showed
    bool done = false;
};

struct LoginSetup {
    std::string confdir;
    std::string service;
    std::string codes_dir;
};

// Runs one full PAM transaction for `user`, filling `record`.
void run_login(const LoginSetup& setup, const BenchUser& user, LoginRecord& record);

std::int64_t monotonic_ns();

}  // namespace twofactor::bench
