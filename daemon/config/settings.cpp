// SPDX-License-Identifier: BSD-2-Clause
#include "daemon/config/settings.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <set>
#include <sstream>

#include "common/credentials.h"
#include "common/ini.h"
#include "common/phone.h"
#include "daemon/config/file_permissions.h"
#include "daemon/config/fleet_settings.h"
#include "daemon/service/message_template.h"
#include "daemon/store/postgresql/postgresql.h"
#include "daemon/twilio/sid.h"
#include "paths.h"

namespace twofactor {
namespace {

// Every key the daemon knows; anything else in the file is a mistake worth stopping for.
const std::map<std::string, std::set<std::string>> kKnownKeys = {
    {"daemon",
     {"socket", "database", "key_file", "debug", "max_connections", "max_connections_per_uid",
      "idle_timeout", "log_lines_per_uid"}},
    {"twilio",
     {"account_sid", "auth_token", "auth_token_file", "api_key_sid", "api_key_secret_file", "from",
      "messaging_service_sid", "api_url", "edge", "region", "ca_file", "timeout", "request_timeout",
      "max_attempts", "verify_service_sid", "verify_api_url"}},
    {"sms",
     {"default_country_code", "message", "allowed_country_codes", "user_texts_per_hour",
      "texts_per_minute", "enroll_texts_per_hour", "texts_per_day", "texts_per_prefix_per_day"}},
    {"voice", {"enabled"}},
    {"login", {"challenge_lifetime", "tries", "resends", "challenges_per_minute"}},
    {"lockout", {"failures", "window", "duration"}},
    {"trust", {"max_seconds", "host_id"}},
    {"store", {"backend", "timeout"}},
    {"listen",
     {"address", "certificate_file", "key_file", "client_ca_file", "hosts_file",
      "texts_per_host_per_minute", "logins_per_host_per_minute", "connections_per_host"}},
    {"remote", {"servers", "ca_file", "certificate_file", "key_file", "timeout", "retry_after"}},
    {"postgresql",
     {"conninfo", "password_file", "connect_timeout", "connections", "allow_insecure"}},
};

class Reader {
public:
    explicit Reader(const IniFile& ini) : ini_(ini) {}

    [[noreturn]] void fail(const IniValue& v, const std::string& why) const {
        throw ConfigError(ini_.name() + ":" + std::to_string(v.line) + ": " + why);
    }

    void text(const char* section, const char* key, std::string& out) const {
        if (auto v = ini_.get(section, key)) out = v->value;
    }

    template <typename Int>
    void number(const char* section, const char* key, Int& out, long long min,
                long long max) const {
        auto v = ini_.get(section, key);
        if (!v) return;
        long long parsed = 0;
        const char* begin = v->value.data();
        const char* end = begin + v->value.size();
        auto [ptr, ec] = std::from_chars(begin, end, parsed);
        if (ec != std::errc() || ptr != end || v->value.empty())
            fail(*v, std::string(key) + " must be a whole number, not '" + v->value + "'");
        if (parsed < min || parsed > max)
            fail(*v, std::string(key) + " must be between " + std::to_string(min) + " and " +
                         std::to_string(max) + ", not " + v->value);
        out = static_cast<Int>(parsed);
    }

    void boolean(const char* section, const char* key, bool& out) const {
        auto v = ini_.get(section, key);
        if (!v) return;
        if (v->value == "yes" || v->value == "true" || v->value == "1" || v->value == "on")
            out = true;
        else if (v->value == "no" || v->value == "false" || v->value == "0" || v->value == "off")
            out = false;
        else
            fail(*v, std::string(key) + " must be yes or no, not '" + v->value + "'");
    }

    void digits(const char* section, const char* key, std::string& out) const {
        auto v = ini_.get(section, key);
        if (!v) return;
        auto code = calling_code(v->value);
        if (!code)
            fail(*v, std::string(key) + " must be a country calling code such as 1 or 44, not '" +
                         v->value + "'");
        out = *code;
    }

    const IniFile& ini() const { return ini_; }

private:
    const IniFile& ini_;
};

// `refused_if_readable` names a secret no other user may read ("the database password"); other
// secrets read by others are warned about.
std::string read_secret_file(const std::string& path, const char* refused_if_readable = nullptr) {
    refuse_if_others_may_change(path, "secret file");
    if (refused_if_readable != nullptr)
        refuse_if_others_may_read(path, refused_if_readable);
    else
        warn_if_others_may_read(path, "a secret");
    auto value = read_secret_text(path);
    if (!value) throw ConfigError(path + ": " + std::strerror(errno));
    return std::move(*value);
}

void check_known_keys(const IniFile& ini) {
    for (const auto& [section, keys] : ini.sections()) {
        auto known = kKnownKeys.find(section);
        for (const auto& [key, value] : keys) {
            if (known == kKnownKeys.end())
                throw ConfigError(ini.name() + ":" + std::to_string(value.line) +
                                  ": unknown section [" + section + "]");
            if (!known->second.count(key))
                throw ConfigError(ini.name() + ":" + std::to_string(value.line) +
                                  ": unknown key '" + key + "' in [" + section + "]");
        }
    }
}

// A name, not a sentence: it is stored with every trust and shown by `twofactorctl status`.
void read_host_id(const Reader& r, TrustSettings& trust) {
    auto v = r.ini().get("trust", "host_id");
    if (!v) return;
    const bool valid = !v->value.empty() && v->value.size() <= 253 &&
                       std::all_of(v->value.begin(), v->value.end(), [](char c) {
                           return std::isalnum(static_cast<unsigned char>(c)) || c == '.' ||
                                  c == '-' || c == '_' || c == ':';
                       });
    if (!valid)
        r.fail(*v, "host_id must be 1 to 253 letters, digits and . - _ :, not '" + v->value + "'");
    trust.host_id = v->value;
}

void read_allowed_countries(const Reader& r, SmsSettings& sms) {
    auto v = r.ini().get("sms", "allowed_country_codes");
    if (!v) return;
    std::string item;
    std::istringstream list(v->value);
    while (std::getline(list, item, ',')) {
        auto first = item.find_first_not_of(" \t");
        auto last = item.find_last_not_of(" \t");
        if (first == std::string::npos) continue;
        item = item.substr(first, last - first + 1);
        auto code = calling_code(item);
        if (!code)
            r.fail(*v, "allowed_country_codes must list calling codes such as 1, 44; '" + item +
                           "' is not one");
        sms.allowed_country_codes.push_back(*code);
    }
}

// `key` must be a SID starting with `prefix`, when it is given.
void sid(const Reader& r, const char* key, const char* prefix, std::string& out) {
    auto v = r.ini().get("twilio", key);
    if (!v) return;
    if (auto why = check_sid(key, prefix, v->value)) r.fail(*v, *why);
    out = v->value;
}

// A secret given inline or in a file, never both.
SecureString secret(const Reader& r, const char* inline_key, const char* file_key) {
    std::string value;
    std::string file;
    if (inline_key) r.text("twilio", inline_key, value);
    r.text("twilio", file_key, file);
    if (!value.empty() && !file.empty())
        r.fail(*r.ini().get("twilio", file_key),
               std::string("give ") + inline_key + " or " + file_key + ", not both");
    if (!file.empty()) value = read_secret_file(file);
    return SecureString(std::move(value));
}

void read_twilio(const Reader& r, TwilioSettings& twilio) {
    const IniFile& ini = r.ini();
    sid(r, "account_sid", "AC", twilio.account_sid);
    twilio.auth_token = secret(r, "auth_token", "auth_token_file");
    sid(r, "api_key_sid", "SK", twilio.api_key_sid);
    twilio.api_key_secret = secret(r, nullptr, "api_key_secret_file");
    if (twilio.api_key_sid.empty() && !twilio.api_key_secret.empty())
        r.fail(*ini.get("twilio", "api_key_secret_file"),
               "api_key_secret_file needs api_key_sid, the SK... SID of the key");
    r.text("twilio", "from", twilio.from);
    sid(r, "messaging_service_sid", "MG", twilio.messaging_service_sid);

    std::string edge;
    std::string region;
    r.text("twilio", "edge", edge);
    r.text("twilio", "region", region);
    for (auto [key, value] : {std::pair{"edge", &edge}, std::pair{"region", &region}}) {
        if (auto v = ini.get("twilio", key)) {
            if (auto why = check_host_label(key, *value)) r.fail(*v, *why);
        }
    }
    if (auto v = ini.get("twilio", "api_url")) {
        if (!edge.empty() || !region.empty())
            r.fail(*v, "give api_url or edge and region, not both");
        twilio.api_url = v->value;
        if (auto why = check_api_url(twilio.api_url)) r.fail(*v, *why);
    } else if (auto url = regional_url("api", edge, region); !url.empty()) {
        twilio.api_url = url;
    }
    sid(r, "verify_service_sid", "VA", twilio.verify_service_sid);
    if (auto v = ini.get("twilio", "verify_api_url")) {
        twilio.verify_api_url = v->value;
        if (auto why = check_api_url(twilio.verify_api_url)) r.fail(*v, "verify_" + *why);
    }
    r.text("twilio", "ca_file", twilio.ca_file);
    if (auto v = ini.get("twilio", "ca_file")) {
        if (access(twilio.ca_file.c_str(), R_OK) != 0)
            r.fail(*v, "ca_file " + twilio.ca_file + ": " + std::strerror(errno));
    }

    long long timeout = twilio.deadline.count() / 1000;
    r.number("twilio", "timeout", timeout, 1, 300);
    twilio.deadline = std::chrono::seconds(timeout);
    long long request_timeout = twilio.request_timeout.count() / 1000;
    r.number("twilio", "request_timeout", request_timeout, 1, 300);
    twilio.request_timeout = std::chrono::seconds(request_timeout);
    r.number("twilio", "max_attempts", twilio.max_attempts, 1, 10);
}

void read_store_backend(const Reader& r, StoreSettings& store) {
    if (auto v = r.ini().get("store", "backend")) {
        if (v->value == "sqlite")
            store.backend = StoreSettings::Backend::Sqlite;
        else if (v->value == "postgresql")
            store.backend = StoreSettings::Backend::Postgresql;
        else if (v->value == "remote")
            store.backend = StoreSettings::Backend::Remote;
        else
            r.fail(*v, "backend must be sqlite or postgresql (remote on an agent), not '" +
                           v->value + "'");
    }
}

void read_store(const Reader& r, StoreSettings& store) {
    r.number("store", "timeout", store.timeout, 1, 300);
    r.text("postgresql", "conninfo", store.conninfo);
    r.number("postgresql", "connect_timeout", store.connect_timeout, 1, 60);
    r.number("postgresql", "connections", store.connections, 1, 64);
    std::string password_file;
    r.text("postgresql", "password_file", password_file);
    if (!password_file.empty())
        store.password = SecureString(read_secret_file(password_file, "the database password"));
    if (store.backend == StoreSettings::Backend::Postgresql && store.conninfo.empty())
        r.fail(*r.ini().get("store", "backend"),
               "backend = postgresql needs [postgresql] conninfo");
    bool allow_insecure = false;
    r.boolean("postgresql", "allow_insecure", allow_insecure);
    if (auto v = r.ini().get("postgresql", "conninfo")) {
        if (auto why = pg::check_conninfo(store.conninfo)) r.fail(*v, *why);
        if (auto why = pg::check_transport(store.conninfo); why && !allow_insecure)
            r.fail(*v, *why + "; or set [postgresql] allow_insecure = yes");
    }
}

// A call needs a caller ID that can place calls: a number ([twilio] from). A Messaging Service
// sends texts only; Verify places its calls with its own numbers.
void read_voice(const Reader& r, Settings& s) {
    r.boolean("voice", "enabled", s.voice.enabled);
    if (s.voice.enabled && s.twilio.from.empty() && s.twilio.verify_service_sid.empty())
        r.fail(*r.ini().get("voice", "enabled"),
               "enabled = yes needs [twilio] from, a voice-capable number to call from (a "
               "messaging_service_sid cannot place calls), or [twilio] verify_service_sid");
}

}  // namespace

Settings load_settings(const std::string& path, bool must_exist) {
    Settings s;
    s.daemon.socket = paths::kSocket;
    s.daemon.database = paths::kDatabase;
    s.daemon.key_file = paths::kKeyFile;

    struct stat st {};
    if (stat(path.c_str(), &st) != 0) {
        if (errno == ENOENT && !must_exist) return s;
        throw ConfigError(path + ": " + std::strerror(errno));
    }
    refuse_if_others_may_change(path, "configuration");
    IniFile ini = IniFile::load(path);
    check_known_keys(ini);
    Reader r(ini);
    // An agent's file is refused before any secret file it names is read.
    read_store_backend(r, s.store);
    read_fleet_settings(ini, s);

    r.text("daemon", "socket", s.daemon.socket);
    r.text("daemon", "database", s.daemon.database);
    r.text("daemon", "key_file", s.daemon.key_file);
    r.boolean("daemon", "debug", s.daemon.debug);
    r.number("daemon", "max_connections", s.daemon.max_connections, 1, 65536);
    r.number("daemon", "max_connections_per_uid", s.daemon.max_connections_per_uid, 1, 65536);
    r.number("daemon", "idle_timeout", s.daemon.idle_timeout, 1, 3600);
    r.number("daemon", "log_lines_per_uid", s.daemon.log_lines_per_uid, 1, 100000);

    read_twilio(r, s.twilio);
    if (ini.get("twilio", "auth_token")) warn_if_others_may_read(path, "the Twilio auth token");

    r.digits("sms", "default_country_code", s.sms.default_country_code);
    r.text("sms", "message", s.sms.message);
    if (auto v = ini.get("sms", "message"))
        if (auto why = message_template::check(s.sms.message)) r.fail(*v, *why);
    read_allowed_countries(r, s.sms);
    r.number("sms", "user_texts_per_hour", s.sms.user_texts_per_hour, 1, 1000);
    r.number("sms", "texts_per_minute", s.sms.texts_per_minute, 1, 100000);
    r.number("sms", "enroll_texts_per_hour", s.sms.enroll_texts_per_hour, 1, 1000);
    r.number("sms", "texts_per_day", s.sms.texts_per_day, 1, 10000000);
    r.number("sms", "texts_per_prefix_per_day", s.sms.texts_per_prefix_per_day, 1, 10000000);

    read_voice(r, s);

    r.number("login", "challenge_lifetime", s.login.challenge_lifetime, 10, 3600);
    r.number("login", "tries", s.login.tries, 1, 10);
    r.number("login", "resends", s.login.resends, 0, 10);
    r.number("login", "challenges_per_minute", s.login.challenges_per_minute, 1, 10000);
    // NIST SP 800-63B §5.2.2: no more than 100 consecutive failures before a lock.
    r.number("lockout", "failures", s.login.lockout_failures, 1, 100);
    r.number("lockout", "window", s.login.lockout_window, 1, 86400);
    r.number("lockout", "duration", s.login.lockout_duration, 1, 86400);
    r.number("trust", "max_seconds", s.trust.max_seconds, 0, kMaxTrustSeconds);
    read_host_id(r, s.trust);
    read_store(r, s.store);
    return s;
}

}  // namespace twofactor
