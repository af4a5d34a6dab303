// SPDX-License-Identifier: BSD-2-Clause
// The one rule for api_url: credentials travel in clear text only to this machine.
#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

#include "daemon/twilio/twilio.h"

namespace twofactor {
namespace {

std::string lowercase(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return out;
}

// Strict dotted decimal: libcurl reads "0177.0.0.1" as octal, so leading zeros are refused
// rather than guessed at.
bool is_loopback_ipv4(std::string_view host) {
    int parts = 0;
    int first = -1;
    std::size_t i = 0;
    while (parts < 4) {
        std::size_t start = i;
        int value = 0;
        while (i < host.size() && host[i] >= '0' && host[i] <= '9' && i - start < 3) {
            value = value * 10 + (host[i] - '0');
            ++i;
        }
        std::size_t digits = i - start;
        if (digits == 0 || value > 255 || (digits > 1 && host[start] == '0')) return false;
        if (parts == 0) first = value;
        ++parts;
        if (parts < 4) {
            if (i >= host.size() || host[i] != '.') return false;
            ++i;
        }
    }
    return i == host.size() && first == 127;
}

bool is_loopback_ipv6(std::string_view bracketed) {
    std::string inner(bracketed.substr(1, bracketed.size() - 2));
    in6_addr address{};
    return inet_pton(AF_INET6, inner.c_str(), &address) == 1 &&
           std::memcmp(&address, &in6addr_loopback, sizeof address) == 0;
}

bool is_valid_port(std::string_view port) {
    if (port.empty() || port.size() > 5) return false;
    long value = 0;
    for (char c : port) {
        if (c < '0' || c > '9') return false;
        value = value * 10 + (c - '0');
    }
    return value >= 1 && value <= 65535;
}

}  // namespace

std::optional<std::string> check_api_url(const std::string& url) {
    if (url.empty()) return "api_url is empty";
    for (unsigned char c : url) {
        if (c <= 0x20 || c == 0x7f) return "api_url contains a space or a control character";
    }
    auto scheme_end = url.find("://");
    std::string scheme =
        scheme_end == std::string::npos ? "" : lowercase(url.substr(0, scheme_end));
    if (scheme != "https" && scheme != "http") {
        return "api_url must start with https:// (or http:// for a test endpoint on this machine)";
    }
    std::string_view rest = std::string_view(url).substr(scheme_end + 3);
    if (rest.find_first_of("?#") != std::string_view::npos) {
        return "api_url must not contain a query or a fragment: the Messages path is appended to "
               "it";
    }
    std::string_view authority = rest.substr(0, rest.find('/'));
    if (authority.find('@') != std::string_view::npos) {
        return "api_url must not contain a user name or password: the account SID and auth token "
               "are sent separately";
    }

    std::string_view host;
    std::string_view after_host;
    if (!authority.empty() && authority.front() == '[') {
        auto close = authority.find(']');
        if (close == std::string_view::npos) return "api_url has an IPv6 address without its ']'";
        host = authority.substr(0, close + 1);
        after_host = authority.substr(close + 1);
    } else {
        host = authority.substr(0, authority.find(':'));
        after_host = authority.substr(host.size());
    }
    if (host.empty() || host == "[]") return "api_url has no host name";
    if (!after_host.empty() &&
        (after_host.front() != ':' || !is_valid_port(after_host.substr(1)))) {
        return "api_url has a port that is not a number from 1 to 65535";
    }
    if (scheme == "https") return std::nullopt;

    std::string lower_host = lowercase(host);
    bool loopback = lower_host == "localhost" || is_loopback_ipv4(lower_host) ||
                    (lower_host.front() == '[' && is_loopback_ipv6(lower_host));
    if (loopback) return std::nullopt;
    return "api_url uses http:// with " + std::string(host) +
           ", which is not a loopback address: the Twilio credentials and the codes would cross "
           "the network unencrypted. Use https:// (http:// is only for a test endpoint on "
           "127.0.0.0/8, [::1] or localhost)";
}

}  // namespace twofactor
