// SPDX-License-Identifier: BSD-2-Clause
// The daemon as the commands see it. Each call opens its own connection: enroll waits for a
// person between calls, longer than the daemon keeps an idle connection open.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "common/client.h"

namespace twofactor::ctl {

class Session {
public:
    Session(std::string socket_path, std::chrono::milliseconds timeout)
        : socket_path_(std::move(socket_path)), timeout_(timeout) {}

    // Throws Unreachable. `parameters` is wiped afterwards: requests carry secrets and codes.
    CallResult call(std::string_view method, protocol::json& parameters);

private:
    std::string socket_path_;
    std::chrono::milliseconds timeout_;
};

}  // namespace twofactor::ctl
