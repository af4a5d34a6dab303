// SPDX-License-Identifier: BSD-2-Clause
// What a login host may ask of a server, and nothing more. Root on the host (the module in sshd,
// sudo, su) may start a login (Begin), resend or call its code (SendCode with a twoFactorId),
// complete it, and ask whether a user is enrolled or locked (Status without the number, the
// failures or the trusts). A non-root user of the host may do what that user may do on a host of
// its own, as that user (the service checks the user and the proofs). Never over the wire:
// Unlock, root's setup texts and changes. A trust (trust=) asked for through a host is bound to
// that host by the service (Service::trust_host, from Caller::host).
//
// A twoFactorId is bound to the host that started it: the host receives the id with a MAC of
// (host, id) under a key derived from the data key, which every server of a fleet holds, so the
// binding needs no table and survives a failover; another host's id is NotFound.
//
// Per host and minute, at this server: Begin calls ([listen] logins_per_host_per_minute), and
// calls that may text (Begin and SendCode, [listen] texts_per_host_per_minute); past them,
// RateLimited with retryAfter. Used on the loop only.
#pragma once

#include <array>
#include <optional>
#include <string>

#include "common/protocol.h"
#include "daemon/keys/cipher.h"
#include "daemon/service/limits.h"
#include "daemon/service/service.h"

namespace twofactor {

class HostPolicy {
public:
    HostPolicy(const std::array<unsigned char, kKeyBytes>& data_key, const ListenSettings& limits);
    ~HostPolicy();
    HostPolicy(const HostPolicy&) = delete;
    HostPolicy& operator=(const HostPolicy&) = delete;

    // For a call from a login host: the refusal to answer, or nullopt with `request` made ready
    // for the service (a bound twoFactorId replaced by the challenge's own).
    std::optional<protocol::json> admit(const Caller& caller, protocol::Request& request);
    // The answer as the host may see it: a twoFactorId bound to it, Status trimmed for root.
    void shape_answer(const Caller& caller, const std::string& method,
                      protocol::json& answer) const;

    std::string bind(const std::string& host, const std::string& id) const;
    // The challenge's id when `bound` was bound to `host`, else nullopt.
    std::optional<std::string> unbind(const std::string& host, const std::string& bound) const;

private:
    std::string mac(const std::string& host, const std::string& id) const;
    std::optional<protocol::json> limit(const Caller& caller, const std::string& method);

    std::array<unsigned char, 32> key_{};
    RateLimiter logins_;
    RateLimiter texts_;
    std::int64_t last_sweep_ = 0;
};

}  // namespace twofactor
