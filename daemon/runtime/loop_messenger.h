// SPDX-License-Identifier: BSD-2-Clause
// The provider as the workers see it: the service runs on a worker, but libcurl's transfers live
// on the sd-event loop. Each send is handed to the loop; each answer comes back to a worker,
// where the service's callback may touch the store.
#pragma once

#include <string>

#include "daemon/runtime/worker_pool.h"
#include "daemon/service/messenger.h"

namespace twofactor {

// Sends on the loop through `real`; reports on a worker.
class LoopMessenger final : public Messenger {
public:
    LoopMessenger(WorkerPool& workers, Messenger& real) : workers_(workers), real_(real) {}
    using Messenger::send;
    void send(const std::string& to, SecureString body, TextOptions options,
              Callback done) override;
    void call(const std::string& to, SecureString twiml, TextOptions options,
              Callback done) override;
    void start_verification(const std::string& to, const std::string& channel, TextOptions options,
                            Callback done) override;
    void check_verification(const std::string& to, SecureString code, Callback done) override;

private:
    // `done` wrapped so that it runs on a worker, whichever thread reports.
    Callback on_worker(Callback done);

    WorkerPool& workers_;
    Messenger& real_;
};

}  // namespace twofactor
