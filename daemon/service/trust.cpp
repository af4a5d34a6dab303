// SPDX-License-Identifier: BSD-2-Clause
// Trust (the module's trust=): after a second factor succeeds, the same user, PAM service and
// origin (PAM_RHOST, or the TTY where there is none) skip the code for a while, on the host that
// made the trust and no other (host_id.h). Every limit is
// applied when a trust is used as well as when it is made, so lowering [trust] max_seconds or a
// service's trust= shortens the trusts already made.
#include <algorithm>
#include <mutex>
#include <set>
#include <tuple>

#include "daemon/log/log.h"
#include "daemon/service/params.h"
#include "daemon/service/service.h"

namespace twofactor {

namespace err = protocol::error;
using protocol::json;

namespace {

// Forged rows already logged, so that a row read at every login and status is one line, not a
// flood. Bounded: past the limit the set starts over (a row may then be logged again).
constexpr std::size_t kForgedRowsRemembered = 1024;

bool first_report_of(const Trust& t) {
    using Row =
        std::tuple<std::string, std::string, std::string, std::string, std::int64_t, std::int64_t>;
    static std::mutex mutex;
    static std::set<Row> reported;
    std::lock_guard lock(mutex);
    if (reported.size() >= kForgedRowsRemembered) reported.clear();
    return reported.emplace(t.user, t.service, t.origin, t.host, t.created_at, t.expires_at).second;
}

}  // namespace

void Service::log_forged_trust(const Trust& t) {
    if (!first_report_of(t)) return;
    log::warning("trust ignored: its MAC does not match, it was not written with the key",
                 {{"user", t.user},
                  {"service", t.service},
                  {"origin", t.origin},
                  {"host", t.host},
                  {"created_at", std::to_string(t.created_at)},
                  {"expires_at", std::to_string(t.expires_at)}});
}

TrustRequest Service::trust_request(const Caller& caller, const json& p, const std::string& service,
                                    const std::string& ip, const std::string& tty) const {
    const auto asked = params::optional_integer(p, "trust", 0, kMaxTrustSeconds);
    if (!asked) return {};
    TrustRequest request;
    request.seconds = std::min(*asked, settings_.trust.max_seconds);
    request.service = service;
    request.origin = !ip.empty() ? ip : tty.empty() ? std::string() : "tty:" + tty;
    request.host = trust_host(caller);
    // Only root speaks for a PAM service and a remote host (the module inside sshd, sudo, su,
    // login); a user's own process could name any of them. Without both, nothing identifies
    // where the next login comes from.
    if (!caller.is_root() || request.seconds <= 0 || request.service.empty() ||
        request.origin.empty())
        return {};
    return request;
}

const std::string& Service::trust_host(const Caller& caller) const {
    return caller.host.empty() ? host_id_ : caller.host;
}

std::optional<std::int64_t> Service::trusted_until(const std::string& user,
                                                   const TrustRequest& request, std::int64_t now) {
    if (request.seconds <= 0) return std::nullopt;
    auto trust = store_.get_trust(user, request.service, request.origin, request.host);
    if (!trust) return std::nullopt;
    // Made under a larger max_seconds or trust=, it ends where today's limits say.
    const std::int64_t until =
        std::min({trust->expires_at, trust->created_at + settings_.trust.max_seconds,
                  trust->created_at + request.seconds});
    if (until <= now) return std::nullopt;
    return until;
}

void Service::remember_trust(const Challenge& c, const std::string& host, std::int64_t now) {
    const std::int64_t seconds = std::min(c.trust_seconds, settings_.trust.max_seconds);
    if (seconds <= 0 || c.service.empty() || c.origin.empty()) return;
    store_.put_trust(Trust{c.user, c.service, c.origin, host, now, now + seconds});
    log::info("login trusted", {{"user", c.user},
                                {"service", c.service},
                                {"origin", c.origin},
                                {"host", host},
                                {"seconds", std::to_string(seconds)}});
}

json Service::live_trusts(const std::string& user, std::int64_t now) {
    json list = json::array();
    for (const Trust& t : store_.trusts_of(user)) {
        const std::int64_t until =
            std::min(t.expires_at, t.created_at + settings_.trust.max_seconds);
        if (until <= now) continue;
        list.push_back({{"service", t.service},
                        {"origin", t.origin},
                        {"host", t.host},
                        {"createdAt", t.created_at},
                        {"trustedUntil", until}});
    }
    return list;
}

void Service::forget(const Caller& caller, const json& p, Respond& respond) {
    params::only(p, {"user"});
    std::string user = params::user_name(p);
    authorize(caller, user);
    const std::int64_t forgotten = store_.forget_trusts(user);
    log::notice("trusts forgotten", {{"user", user},
                                     {"trusts", std::to_string(forgotten)},
                                     {"by_uid", std::to_string(caller.uid)}});
    respond(protocol::make_reply({{"user", user}, {"forgotten", forgotten}}));
}

}  // namespace twofactor
