// SPDX-License-Identifier: BSD-2-Clause
// Whether the connection to PostgreSQL may leave this machine without the server's certificate
// checked. Over such a connection someone on the path can read the password and the sealed rows,
// and answer in the server's place (no enrollment, no lock, any trust). libpq reads the
// conninfo; its defaults for what the conninfo leaves out come from the environment.
#include <arpa/inet.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <strings.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "daemon/store/postgresql/postgresql.h"

namespace twofactor::pg {
namespace {

// What libpq will use for one keyword: the conninfo's value, else its environment variable's.
struct Value {
    std::optional<std::string> text;

    static Value of(const PQconninfoOption* options, const char* keyword, const char* variable) {
        for (auto* o = options; o->keyword != nullptr; ++o) {
            if (std::strcmp(o->keyword, keyword) == 0 && o->val != nullptr) return {o->val};
        }
        if (const char* from_environment = std::getenv(variable)) return {from_environment};
        return {};
    }
};

std::vector<std::string> comma_list(const std::string& list) {
    std::vector<std::string> items;
    std::string::size_type start = 0;
    for (;;) {
        const auto comma = list.find(',', start);
        items.push_back(list.substr(start, comma - start));
        if (comma == std::string::npos) return items;
        start = comma + 1;
    }
}

// This machine: libpq's default socket (no host), a Unix socket directory (or Linux's abstract
// namespace), localhost, or a loopback address. Other names are not looked up: what a name
// resolves to may change after the check.
bool is_this_machine(const std::string& host) {
    if (host.empty() || host.front() == '/' || host.front() == '@') return true;
    if (strcasecmp(host.c_str(), "localhost") == 0) return true;
    in_addr v4{};
    if (inet_pton(AF_INET, host.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
    in6_addr v6{};
    if (inet_pton(AF_INET6, host.c_str(), &v6) == 1)
        return IN6_IS_ADDR_LOOPBACK(&v6) || (IN6_IS_ADDR_V4MAPPED(&v6) && v6.s6_addr[12] == 127);
    return false;
}

// The first host that is not this machine, with libpq's rule that a host's hostaddr, when
// given, is where it connects; nullopt when every one is.
std::optional<std::string> first_other_host(const std::vector<std::string>& hosts,
                                            const std::vector<std::string>& addresses) {
    const auto count = std::max(hosts.size(), addresses.size());
    for (std::size_t i = 0; i < count; ++i) {
        std::string where = i < addresses.size() ? addresses[i] : std::string();
        if (where.empty() && i < hosts.size()) where = hosts[i];
        if (!is_this_machine(where)) return where;
    }
    return std::nullopt;
}

}  // namespace

std::optional<std::string> check_transport(const std::string& conninfo) {
    PQconninfoOption* options = PQconninfoParse(conninfo.c_str(), nullptr);
    if (options == nullptr) return std::nullopt;  // check_conninfo says why
    const Value host = Value::of(options, "host", "PGHOST");
    const Value hostaddr = Value::of(options, "hostaddr", "PGHOSTADDR");
    const Value sslmode = Value::of(options, "sslmode", "PGSSLMODE");
    const Value service = Value::of(options, "service", "PGSERVICE");
    PQconninfoFree(options);

    const std::string mode = sslmode.text.value_or(service.text ? "" : "prefer");
    if (mode == "verify-full" || mode == "verify-ca") return std::nullopt;
    const std::string fix =
        "; set sslmode=verify-full (or verify-ca) with the server's CA in sslrootcert";
    if (!host.text && !hostaddr.text && service.text)
        return "conninfo takes its host from the service '" + *service.text +
               "', which cannot be checked here, and does not say sslmode=verify-full" + fix +
               ", or name the host in conninfo";
    const auto other =
        first_other_host(host.text ? comma_list(*host.text) : std::vector<std::string>{},
                         hostaddr.text ? comma_list(*hostaddr.text) : std::vector<std::string>{});
    if (!other) return std::nullopt;
    return "conninfo reaches " + *other + ", another machine, without checking the server's " +
           "certificate (sslmode=" + (mode.empty() ? "from the service" : mode) +
           "): the password and every row could be read or changed on the way" + fix;
}

}  // namespace twofactor::pg
