// SPDX-License-Identifier: BSD-2-Clause
// twofactord's configuration: /etc/twofactord/twofactord.conf, then command-line overrides.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "daemon/store/store.h"
#include "daemon/twilio/twilio.h"

namespace twofactor {

struct LoginSettings {
    std::int64_t challenge_lifetime = 300;  // [login] challenge_lifetime, seconds
    int tries = 5;                          // [login] tries, wrong codes per challenge
    int resends = 3;                        // [login] resends per challenge
    int challenges_per_minute = 20;         // [login] challenges_per_minute, per user
    int lockout_failures = 10;              // [lockout] failures, consecutive, in the window
    std::int64_t lockout_window = 900;      // [lockout] window, seconds
    std::int64_t lockout_duration = 900;    // [lockout] duration, seconds
};

struct SmsSettings {
    std::string default_country_code;  // [sms] default_country_code, digits
    // [sms] message, with {code}, {service} and {host} (daemon/service/message_template.h)
    std::string message = "{code} is your code for {service} on {host}";
    std::vector<std::string> allowed_country_codes;  // [sms] allowed_country_codes, empty = all
    int user_texts_per_hour = 10;                    // [sms] user_texts_per_hour
    int texts_per_minute = 120;                      // [sms] texts_per_minute, all users
    int enroll_texts_per_hour = 5;  // [sms] enroll_texts_per_hour, per non-root uid
    // The fleet's budgets, counted in the store over the last 24 hours: all texts and calls,
    // and those to one number prefix (the E.164 number without its last four digits).
    int texts_per_day = 1000;            // [sms] texts_per_day
    int texts_per_prefix_per_day = 100;  // [sms] texts_per_prefix_per_day
};

struct VoiceSettings {
    // [voice] enabled: `call` at the prompt rings the phone and reads the code (Twilio's Calls
    // API with [twilio] from, or Verify's call channel).
    bool enabled = false;
};

inline constexpr std::int64_t kMaxTrustSeconds = 30 * 86400;

struct TrustSettings {
    // [trust] max_seconds: no trust lasts longer, whatever the module's trust= asks; 0 turns
    // trust off for every service. A trust made under a larger value ends at its creation plus
    // this one.
    std::int64_t max_seconds = 43200;
    // [trust] host_id: the name this host's trusts are bound to; empty means the one derived
    // from the machine (daemon/service/host_id.h). Set it where machines share a machine ID
    // (cloned images).
    std::string host_id;
};

struct DaemonSettings {
    std::string socket;                // [daemon] socket
    std::string database;              // [daemon] database
    std::string key_file;              // [daemon] key_file
    bool debug = false;                // [daemon] debug
    int max_connections = 256;         // [daemon] max_connections
    int max_connections_per_uid = 16;  // [daemon] max_connections_per_uid
    std::int64_t idle_timeout = 30;    // [daemon] idle_timeout, seconds
    int log_lines_per_uid = 20;        // [daemon] log_lines_per_uid, a minute, non-root callers
};

// [listen]: a server that also serves login hosts (agents) over mutual TLS. Off while `address`
// is empty.
struct ListenSettings {
    std::string address;           // HOST:PORT
    std::string certificate_file;  // the server's chain, PEM
    std::string key_file;          // its key, PEM; else the credential twofactord-tls.key
    std::string client_ca_file;    // CA the agents' certificates must chain to
    std::string hosts_file;        // one admitted host name a line
    int texts_per_host_per_minute = 60;
    int logins_per_host_per_minute = 600;
    int connections_per_host = 32;
};

// [remote]: an agent's servers, with `[store] backend = remote`.
struct RemoteSettings {
    std::vector<std::string> servers;  // HOST:PORT, tried in order
    std::string ca_file;               // CA the servers' certificates must chain to
    std::string certificate_file;      // the agent's chain, PEM
    std::string key_file;              // its key, PEM; else the credential twofactord-agent.key
    int timeout = 10;                  // seconds, per call, unless the caller names less
    int retry_after = 30;              // seconds a server that failed is skipped
};

struct Settings {
    DaemonSettings daemon;
    // [store] backend, [postgresql] conninfo, password_file, connect_timeout; `database` is
    // copied from [daemon] database once the command line has had its say.
    StoreSettings store;
    TwilioSettings twilio;
    SmsSettings sms;
    VoiceSettings voice;
    LoginSettings login;
    TrustSettings trust;
    ListenSettings listen;
    RemoteSettings remote;
    bool is_agent() const { return store.backend == StoreSettings::Backend::Remote; }
};

// Reads the file (throws ConfigError "PATH:LINE: ..." for a bad value or an unknown key).
// A missing file is an error only when `must_exist`.
Settings load_settings(const std::string& path, bool must_exist);

}  // namespace twofactor
