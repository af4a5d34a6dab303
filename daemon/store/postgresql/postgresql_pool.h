// SPDX-License-Identifier: BSD-2-Clause
// A fixed number of connections to one database, each lent to one thread at a time, so that the
// daemon's workers wait on their own round trips, not on each other's. A thread that holds
// a connection already (a transaction whose statements are other store calls) is lent the same
// one again.
#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "daemon/store/postgresql/postgresql.h"

namespace twofactor::pg {

class Pool {
public:
    // Makes `size` connections (at least one); none connects before its first statement.
    Pool(const std::string& conninfo, const SecureString& password, int connect_timeout, int size);
    Pool(const Pool&) = delete;
    Pool& operator=(const Pool&) = delete;

    class Lease {
    public:
        ~Lease();
        Lease(const Lease&) = delete;
        Lease& operator=(const Lease&) = delete;
        Connection& operator*() const { return *connection_; }
        Connection* operator->() const { return connection_; }

    private:
        friend class Pool;
        Lease(Pool* pool, Connection* connection, bool outermost)
            : pool_(pool), connection_(connection), outermost_(outermost) {}
        Pool* pool_;
        Connection* connection_;
        bool outermost_;  // this lease took it from the pool and gives it back
    };

    // The calling thread's connection: the one it holds, else a free one, waiting for one when
    // every connection is lent out.
    Lease lease();
    int size() const { return static_cast<int>(connections_.size()); }

private:
    void give_back(Connection* connection);

    std::vector<std::unique_ptr<Connection>> connections_;
    std::mutex mutex_;
    std::condition_variable returned_;
    std::vector<Connection*> free_;
};

}  // namespace twofactor::pg
