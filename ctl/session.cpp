// SPDX-License-Identifier: BSD-2-Clause
#include "ctl/session.h"

#include "ctl/output.h"

namespace twofactor::ctl {

CallResult Session::call(std::string_view method, protocol::json& parameters) {
    struct WipeOnExit {
        protocol::json& value;
        ~WipeOnExit() { wipe_json(value); }
    } wipe_on_exit{parameters};
    Client client(socket_path_, timeout_);
    return client.call(method, parameters);
}

}  // namespace twofactor::ctl
