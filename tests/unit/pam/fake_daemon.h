// SPDX-License-Identifier: BSD-2-Clause
// A scripted stand-in for twofactord on a Unix socket in a temp dir, served from a thread of
// the test (as root, like the real daemon's peer check wants). Each request takes the next step
// of the script: answer with a JSON message, say nothing, or hang up. Requests are recorded.
#pragma once

#include <atomic>
#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/protocol.h"

namespace twofactor::test {

class FakeDaemon {
public:
    enum class Action { Answer, Silent, HangUp };
    struct Step {
        Action action;
        protocol::json message;
    };

    FakeDaemon();
    ~FakeDaemon();
    FakeDaemon(const FakeDaemon&) = delete;
    FakeDaemon& operator=(const FakeDaemon&) = delete;

    // Script helpers: a reply, an error reply, silence, a hang-up.
    void reply(protocol::json parameters);
    void error(const std::string& name, protocol::json parameters = protocol::json::object());
    void silent();
    void hang_up();

    const std::string& socket_path() const { return socket_path_; }
    std::vector<protocol::Request> requests();

private:
    void serve();
    void serve_connection(int fd);
    bool next_step(Step& step);

    std::string directory_;
    std::string socket_path_;
    int listener_ = -1;
    std::atomic<bool> stopping_{false};
    std::mutex lock_;
    std::deque<Step> script_;
    std::vector<protocol::Request> requests_;
    std::thread thread_;
};

}  // namespace twofactor::test
