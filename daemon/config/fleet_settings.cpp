// SPDX-License-Identifier: BSD-2-Clause
#include "daemon/config/fleet_settings.h"

#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <sstream>

namespace twofactor {
namespace {

[[noreturn]] void fail(const IniFile& ini, const IniValue& v, const std::string& why) {
    throw ConfigError(ini.name() + ":" + std::to_string(v.line) + ": " + why);
}

void number(const IniFile& ini, const char* section, const char* key, int& out, int min, int max) {
    auto v = ini.get(section, key);
    if (!v) return;
    int parsed = 0;
    const char* end = v->value.data() + v->value.size();
    auto [ptr, ec] = std::from_chars(v->value.data(), end, parsed);
    if (ec != std::errc() || ptr != end || v->value.empty() || parsed < min || parsed > max)
        fail(ini, *v,
             std::string(key) + " must be a whole number between " + std::to_string(min) + " and " +
                 std::to_string(max) + ", not '" + v->value + "'");
    out = parsed;
}

// A file the daemon reads at start must be there and readable: said now, with its line.
void readable_file(const IniFile& ini, const char* section, const char* key, std::string& out) {
    auto v = ini.get(section, key);
    if (!v) return;
    out = v->value;
    if (out.empty() || access(out.c_str(), R_OK) != 0)
        fail(ini, *v, std::string(key) + " " + out + ": " + std::strerror(errno));
}

void required(const IniFile& ini, const IniValue& at, const std::string& value, const char* key,
              const std::string& why) {
    if (value.empty()) fail(ini, at, why + " needs " + key);
}

// The line to name for a whole section: its first key's (an empty section names no line).
[[noreturn]] void fail_section(const IniFile& ini, const std::string& section,
                               const std::string& why) {
    const auto& keys = ini.sections().at(section);
    int line = 0;
    for (const auto& [key, value] : keys)
        if (line == 0 || value.line < line) line = value.line;
    if (line == 0) throw ConfigError(ini.name() + ": " + why);
    throw ConfigError(ini.name() + ":" + std::to_string(line) + ": " + why);
}

void read_listen(const IniFile& ini, ListenSettings& listen) {
    auto address = ini.get("listen", "address");
    if (!address) {
        if (ini.sections().count("listen"))
            fail_section(ini, "listen", "[listen] needs address, the HOST:PORT agents connect to");
        return;
    }
    if (!parse_endpoint(address->value))
        fail(ini, *address,
             "address must be HOST:PORT or [IPv6]:PORT, not '" + address->value + "'");
    listen.address = address->value;
    number(ini, "listen", "texts_per_host_per_minute", listen.texts_per_host_per_minute, 1, 100000);
    number(ini, "listen", "logins_per_host_per_minute", listen.logins_per_host_per_minute, 1,
           100000);
    number(ini, "listen", "connections_per_host", listen.connections_per_host, 1, 4096);
    readable_file(ini, "listen", "certificate_file", listen.certificate_file);
    readable_file(ini, "listen", "key_file", listen.key_file);
    readable_file(ini, "listen", "client_ca_file", listen.client_ca_file);
    readable_file(ini, "listen", "hosts_file", listen.hosts_file);
    const std::string why = "[listen] address";
    required(ini, *address, listen.certificate_file, "certificate_file", why);
    required(ini, *address, listen.client_ca_file, "client_ca_file", why);
    required(ini, *address, listen.hosts_file, "hosts_file", why);
}

void read_servers(const IniFile& ini, const IniValue& v, RemoteSettings& remote) {
    std::istringstream list(v.value);
    std::string item;
    while (std::getline(list, item, ',')) {
        auto first = item.find_first_not_of(" \t");
        if (first == std::string::npos) continue;
        item = item.substr(first, item.find_last_not_of(" \t") - first + 1);
        if (!parse_endpoint(item))
            fail(ini, v, "servers must list HOST:PORT, HOST:PORT, ...; '" + item + "' is not one");
        remote.servers.push_back(item);
    }
    if (remote.servers.empty()) fail(ini, v, "servers lists no server");
}

// An agent holds its own certificate and key and nothing else: a key, a database, Twilio's
// credentials or PostgreSQL's on a login host would give them to whoever is root there.
void refuse_secrets(const IniFile& ini) {
    for (const char* key : {"database", "key_file"}) {
        if (auto v = ini.get("daemon", key))
            fail(ini, *v,
                 std::string("an agent ([store] backend = remote) holds no ") +
                     (std::strcmp(key, "database") == 0 ? "database" : "data key") + ": remove " +
                     key + "; the servers hold it");
    }
    for (const char* section : {"twilio", "postgresql", "listen"}) {
        if (ini.sections().count(section))
            fail_section(
                ini, section,
                std::string("an agent ([store] backend = remote) has no [") + section +
                    "] section: " +
                    (std::strcmp(section, "listen") == 0 ? "it serves no other hosts"
                                                         : "its secrets belong on the servers"));
    }
}

void read_remote(const IniFile& ini, bool agent, RemoteSettings& remote) {
    auto servers = ini.get("remote", "servers");
    if (!agent) {
        if (ini.sections().count("remote"))
            fail_section(ini, "remote", "[remote] is read only with [store] backend = remote");
        return;
    }
    auto backend = ini.get("store", "backend");
    if (!servers) fail(ini, *backend, "backend = remote needs [remote] servers");
    read_servers(ini, *servers, remote);
    readable_file(ini, "remote", "ca_file", remote.ca_file);
    readable_file(ini, "remote", "certificate_file", remote.certificate_file);
    readable_file(ini, "remote", "key_file", remote.key_file);
    required(ini, *backend, remote.ca_file, "[remote] ca_file", "backend = remote");
    required(ini, *backend, remote.certificate_file, "[remote] certificate_file",
             "backend = remote");
    number(ini, "remote", "timeout", remote.timeout, 1, 300);
    number(ini, "remote", "retry_after", remote.retry_after, 1, 3600);
}

}  // namespace

std::optional<Endpoint> parse_endpoint(std::string_view text) {
    Endpoint e;
    std::string_view port;
    if (!text.empty() && text.front() == '[') {
        auto close = text.find(']');
        if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':')
            return std::nullopt;
        e.host = std::string(text.substr(1, close - 1));
        port = text.substr(close + 2);
    } else {
        auto colon = text.rfind(':');
        if (colon == std::string_view::npos) return std::nullopt;
        e.host = std::string(text.substr(0, colon));
        port = text.substr(colon + 1);
        if (e.host.find(':') != std::string::npos) return std::nullopt;  // IPv6 needs brackets
    }
    if (e.host.empty() || e.host.find_first_of(" \t/") != std::string::npos) return std::nullopt;
    int number = 0;
    auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), number);
    if (port.empty() || ec != std::errc() || ptr != port.data() + port.size() || number < 1 ||
        number > 65535)
        return std::nullopt;
    e.port = std::string(port);
    return e;
}

void read_fleet_settings(const IniFile& ini, Settings& s) {
    const bool agent = s.is_agent();
    if (agent) refuse_secrets(ini);
    read_remote(ini, agent, s.remote);
    if (!agent) read_listen(ini, s.listen);
}

}  // namespace twofactor
