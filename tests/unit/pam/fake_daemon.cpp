// SPDX-License-Identifier: BSD-2-Clause
#include "fake_daemon.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <stdexcept>

namespace twofactor::test {
namespace {

using Clock = std::chrono::steady_clock;

// Every wait is bounded: a broken test ends instead of hanging the suite.
constexpr auto kConnectionLimit = std::chrono::seconds(10);

bool readable(int fd, int milliseconds) {
    pollfd p{fd, POLLIN, 0};
    return poll(&p, 1, milliseconds) > 0;
}

}  // namespace

FakeDaemon::FakeDaemon() {
    char templ[] = "/tmp/pam-unit-XXXXXX";
    if (mkdtemp(templ) == nullptr) throw std::runtime_error("mkdtemp failed");
    directory_ = templ;
    socket_path_ = directory_ + "/socket";

    listener_ = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::strncpy(address.sun_path, socket_path_.c_str(), sizeof(address.sun_path) - 1);
    if (listener_ < 0 || bind(listener_, reinterpret_cast<sockaddr*>(&address), sizeof(address)) ||
        listen(listener_, 8))
        throw std::runtime_error("cannot listen on " + socket_path_);
    thread_ = std::thread([this] { serve(); });
}

FakeDaemon::~FakeDaemon() {
    stopping_ = true;
    if (thread_.joinable()) thread_.join();
    if (listener_ >= 0) close(listener_);
    unlink(socket_path_.c_str());
    rmdir(directory_.c_str());
}

void FakeDaemon::reply(protocol::json parameters) {
    std::lock_guard guard(lock_);
    script_.push_back({Action::Answer, protocol::make_reply(std::move(parameters))});
}

void FakeDaemon::error(const std::string& name, protocol::json parameters) {
    std::lock_guard guard(lock_);
    script_.push_back(
        {Action::Answer, protocol::make_error("io.twofactor." + name, std::move(parameters))});
}

void FakeDaemon::silent() {
    std::lock_guard guard(lock_);
    script_.push_back({Action::Silent, {}});
}

void FakeDaemon::hang_up() {
    std::lock_guard guard(lock_);
    script_.push_back({Action::HangUp, {}});
}

std::vector<protocol::Request> FakeDaemon::requests() {
    std::lock_guard guard(lock_);
    return requests_;
}

bool FakeDaemon::next_step(Step& step) {
    std::lock_guard guard(lock_);
    if (script_.empty()) return false;
    step = std::move(script_.front());
    script_.pop_front();
    return true;
}

void FakeDaemon::serve() {
    while (!stopping_) {
        if (!readable(listener_, 50)) continue;
        const int fd = accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
        if (fd < 0) continue;
        serve_connection(fd);
        close(fd);
    }
}

void FakeDaemon::serve_connection(int fd) {
    protocol::FrameReader reader;
    const auto give_up = Clock::now() + kConnectionLimit;
    while (!stopping_ && Clock::now() < give_up) {
        protocol::json message;
        const auto status = reader.next(message);
        if (status == protocol::FrameReader::Status::Malformed ||
            status == protocol::FrameReader::Status::TooLarge)
            return;
        if (status == protocol::FrameReader::Status::NeedMore) {
            if (!readable(fd, 50)) continue;
            char buffer[4096];
            const ssize_t n = recv(fd, buffer, sizeof(buffer), 0);
            if (n <= 0) return;
            reader.feed(std::string_view(buffer, static_cast<std::size_t>(n)));
            continue;
        }
        auto request = protocol::parse_request(message);
        if (!request) return;
        {
            std::lock_guard guard(lock_);
            requests_.push_back(*request);
        }
        Step step;
        if (!next_step(step) || step.action == Action::HangUp) return;
        if (step.action == Action::Silent) {
            // Keep the connection open and quiet until the client gives up and closes it.
            while (!stopping_ && Clock::now() < give_up) {
                char byte;
                if (readable(fd, 50) && recv(fd, &byte, 1, 0) <= 0) return;
            }
            return;
        }
        const std::string out = protocol::encode(step.message);
        if (send(fd, out.data(), out.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(out.size()))
            return;
    }
}

}  // namespace twofactor::test
