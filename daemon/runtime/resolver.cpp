// SPDX-License-Identifier: BSD-2-Clause
#include "daemon/runtime/resolver.h"

#include <netdb.h>

#include <condition_variable>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <system_error>
#include <thread>

namespace twofactor {
namespace {

struct Lookup {
    bool done = false;
    std::string error;
    std::vector<ResolvedAddress> addresses;
};

// The look-ups still running, by "host port". Never destroyed: a look-up thread may outlive
// main() and must still find its mutex when it ends.
struct Pending {
    std::mutex mutex;
    std::condition_variable ended;
    std::map<std::string, std::shared_ptr<Lookup>> running;
};

Pending& pending() {
    static auto* instance = new Pending;
    return *instance;
}

void look_up(const std::string& key, std::string host, std::string port,
             std::shared_ptr<Lookup> lookup) {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV;
    addrinfo* found = nullptr;
    const int r = getaddrinfo(host.c_str(), port.c_str(), &hints, &found);
    std::vector<ResolvedAddress> addresses;
    for (addrinfo* a = r == 0 ? found : nullptr; a != nullptr; a = a->ai_next) {
        if (a->ai_addrlen > sizeof(sockaddr_storage)) continue;
        ResolvedAddress address;
        address.family = a->ai_family;
        address.socktype = a->ai_socktype;
        address.protocol = a->ai_protocol;
        std::memcpy(&address.address, a->ai_addr, a->ai_addrlen);
        address.length = a->ai_addrlen;
        addresses.push_back(address);
    }
    if (found != nullptr) freeaddrinfo(found);
    auto& p = pending();
    std::lock_guard lock(p.mutex);
    lookup->done = true;
    lookup->error = r != 0 ? gai_strerror(r) : addresses.empty() ? "no address" : "";
    lookup->addresses = std::move(addresses);
    auto it = p.running.find(key);
    if (it != p.running.end() && it->second == lookup) p.running.erase(it);
    p.ended.notify_all();
}

}  // namespace

std::optional<std::vector<ResolvedAddress>> resolve_tcp(
    const std::string& host, const std::string& port,
    std::chrono::steady_clock::time_point deadline, std::string& why) {
    const std::string key = host + " " + port;
    auto& p = pending();
    std::unique_lock lock(p.mutex);
    std::shared_ptr<Lookup> lookup;
    if (auto it = p.running.find(key); it != p.running.end()) {
        lookup = it->second;
    } else {
        lookup = std::make_shared<Lookup>();
        try {
            std::thread(look_up, key, host, port, lookup).detach();
        } catch (const std::system_error& e) {
            why = std::string("cannot resolve: no thread to look the name up: ") + e.what();
            return std::nullopt;
        }
        p.running.emplace(key, lookup);
    }
    if (!p.ended.wait_until(lock, deadline, [&] { return lookup->done; })) {
        why = "cannot resolve: no answer from DNS in time";
        return std::nullopt;
    }
    if (!lookup->error.empty()) {
        why = "cannot resolve: " + lookup->error;
        return std::nullopt;
    }
    return lookup->addresses;
}

}  // namespace twofactor
