// SPDX-License-Identifier: BSD-2-Clause
// Starts tests/endpoint/fake_twilio.py on 127.0.0.1 for one test program and talks to its
// control API. The process dies with the test program (PR_SET_PDEATHSIG) even if it crashes.
#pragma once

#include <sys/types.h>

#include <nlohmann/json.hpp>
#include <string>

namespace twofactor::testing {

inline constexpr const char* kFakeAccountSid = "AC0123456789abcdef0123456789abcdef";
inline constexpr const char* kFakeAuthToken = "fake-auth-token-0123456789";
inline constexpr const char* kFakeApiKeySid = "SKfedcba9876543210fedcba9876543210";
inline constexpr const char* kFakeApiKeySecret = "fake-api-key-secret-0123456789";
inline constexpr const char* kFakeVerifySid = "VA0123456789abcdef0123456789abcdef";

class FakeTwilio {
public:
    // Waits at most 15 s for the port; throws std::runtime_error if the endpoint does not start.
    FakeTwilio();
    ~FakeTwilio();
    FakeTwilio(const FakeTwilio&) = delete;
    FakeTwilio& operator=(const FakeTwilio&) = delete;

    int port() const { return port_; }
    std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

    void reset();
    void behave(const nlohmann::json& behaviour);
    nlohmann::json messages();  // every recorded Messages request, oldest first
    nlohmann::json calls();     // every recorded Calls request, oldest first
    std::string verify_code(const std::string& to);  // the code Verify sent to `to`

private:
    void stop();  // ends the process (SIGTERM, then SIGKILL after 5 s) and removes the port file
    // One blocking control request; throws unless the endpoint answers 200 with JSON.
    nlohmann::json control(const std::string& path, const std::string* post_body);

    pid_t pid_ = -1;
    int port_ = 0;
    std::string directory_;
    std::string port_file_;
};

}  // namespace twofactor::testing
