// SPDX-License-Identifier: BSD-2-Clause
#include "daemon/store/postgresql/postgresql_pool.h"

#include <algorithm>

namespace twofactor::pg {
namespace {

// The connection this thread holds, and from which pool.
struct Held {
    const Pool* pool = nullptr;
    Connection* connection = nullptr;
};
thread_local Held t_held;

}  // namespace

Pool::Pool(const std::string& conninfo, const SecureString& password, int connect_timeout,
           int size) {
    for (int i = 0; i < std::max(size, 1); ++i) {
        connections_.push_back(std::make_unique<Connection>(conninfo, password, connect_timeout));
        free_.push_back(connections_.back().get());
    }
}

Pool::Lease Pool::lease() {
    if (t_held.pool == this) return Lease(this, t_held.connection, false);
    Connection* connection = nullptr;
    {
        std::unique_lock lock(mutex_);
        returned_.wait(lock, [this] { return !free_.empty(); });
        connection = free_.back();
        free_.pop_back();
    }
    // A thread that holds another pool's connection still counts that one as the one it holds.
    if (t_held.pool == nullptr) t_held = Held{this, connection};
    return Lease(this, connection, true);
}

void Pool::give_back(Connection* connection) {
    if (t_held.connection == connection) t_held = Held{};
    {
        std::lock_guard lock(mutex_);
        free_.push_back(connection);
    }
    returned_.notify_one();
}

Pool::Lease::~Lease() {
    if (outermost_) pool_->give_back(connection_);
}

}  // namespace twofactor::pg
