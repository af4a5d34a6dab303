// SPDX-License-Identifier: BSD-2-Clause
// The configuration readers on any bytes: IniFile::parse() on the text, then load_settings() on
// the same bytes as a file (a memfd, read through /proc/self/fd/N as the daemon reads its
// config). A bad file may only ever be a ConfigError; anything else escaping is a crash.
// Both readers see the same name, so a syntax error must come out of both word for word, and
// whatever load_settings() accepts must lie within the ranges settings.h documents.
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <exception>
#include <optional>
#include <string>
#include <string_view>

#include "common/ini.h"
#include "daemon/config/settings.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

// One memfd for the whole run, rewritten for each input: cheaper than one per input.
class ConfigFile {
public:
    ConfigFile() : fd_(memfd_create("fuzz_config", MFD_CLOEXEC)) {
        FUZZ_CHECK(fd_ >= 0, "memfd_create failed");
        // A memfd is born 0777; the daemon refuses a config others could change
        // (security_file_trust).
        FUZZ_CHECK(fchmod(fd_, 0600) == 0, "fchmod failed");
        path_ = "/proc/self/fd/" + std::to_string(fd_);
    }
    const std::string& write(std::string_view text) {
        FUZZ_CHECK(ftruncate(fd_, 0) == 0, "ftruncate failed");
        std::size_t done = 0;
        while (done < text.size()) {
            const ssize_t n =
                pwrite(fd_, text.data() + done, text.size() - done, static_cast<off_t>(done));
            FUZZ_CHECK(n > 0, "pwrite failed");
            done += static_cast<std::size_t>(n);
        }
        return path_;
    }

private:
    int fd_;
    std::string path_;
};

bool is_country_code(const std::string& code) {
    if (code.empty() || code.size() > 3) return false;
    for (char c : code) {
        if (c < '0' || c > '9') return false;
    }
    return true;
}

// The promises of settings.h for a file load_settings() accepted.
void check_settings(const twofactor::Settings& s) {
    FUZZ_CHECK(s.daemon.max_connections >= 1 && s.daemon.max_connections <= 65536, "range");
    FUZZ_CHECK(s.daemon.max_connections_per_uid >= 1, "max_connections_per_uid range");
    FUZZ_CHECK(s.daemon.idle_timeout >= 1 && s.daemon.idle_timeout <= 3600, "idle_timeout");
    FUZZ_CHECK(s.twilio.max_attempts >= 1 && s.twilio.max_attempts <= 10, "max_attempts");
    FUZZ_CHECK(s.twilio.deadline.count() >= 1000 && s.twilio.deadline.count() <= 300000,
               "timeout range");
    FUZZ_CHECK(s.twilio.request_timeout.count() >= 1000, "request_timeout range");
    FUZZ_CHECK(s.sms.default_country_code.empty() || (is_country_code(s.sms.default_country_code) &&
                                                      s.sms.default_country_code.front() != '0'),
               "default_country_code is not a calling code");
    FUZZ_CHECK(s.sms.message.find("{code}") != std::string::npos, "message without {code}");
    FUZZ_CHECK(s.sms.message.size() <= 1000, "message too long");
    for (const std::string& code : s.sms.allowed_country_codes) {
        FUZZ_CHECK(is_country_code(code), "allowed_country_codes holds a non-code");
    }
    FUZZ_CHECK(s.sms.user_texts_per_hour >= 1 && s.sms.user_texts_per_hour <= 1000, "range");
    FUZZ_CHECK(s.sms.texts_per_minute >= 1 && s.sms.texts_per_minute <= 100000, "range");
    FUZZ_CHECK(s.sms.enroll_texts_per_hour >= 1 && s.sms.enroll_texts_per_hour <= 1000, "range");
    FUZZ_CHECK(s.login.challenge_lifetime >= 10 && s.login.challenge_lifetime <= 3600, "range");
    FUZZ_CHECK(s.login.tries >= 1 && s.login.tries <= 10, "tries range");
    FUZZ_CHECK(s.login.resends >= 0 && s.login.resends <= 10, "resends range");
    FUZZ_CHECK(s.login.lockout_failures >= 1 && s.login.lockout_failures <= 100, "range");
    FUZZ_CHECK(s.login.lockout_window >= 1 && s.login.lockout_window <= 86400, "range");
    FUZZ_CHECK(s.login.lockout_duration >= 1 && s.login.lockout_duration <= 86400, "range");
}

// The promises of ini.h for a text IniFile::parse() accepted.
void check_ini(const twofactor::IniFile& ini) {
    for (const auto& [section, keys] : ini.sections()) {
        FUZZ_CHECK(!section.empty(), "an empty section name was accepted");
        FUZZ_CHECK(section.find_first_of("[]\n") == std::string::npos, "odd section name");
        for (const auto& [key, value] : keys) {
            FUZZ_CHECK(!key.empty() && key.find_first_of("=\n") == std::string::npos, "odd key");
            FUZZ_CHECK(value.value.find('\n') == std::string::npos, "a value spans lines");
            FUZZ_CHECK(value.line >= 1, "a value has no line number");
            const auto found = ini.get(section, key);
            FUZZ_CHECK(found && found->value == value.value, "get() disagrees with sections()");
        }
    }
}

bool starts_with(std::string_view text, std::string_view prefix) {
    return text.substr(0, prefix.size()) == prefix;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static ConfigFile file;
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    const std::string& path = file.write(text);

    std::optional<std::string> syntax_error;
    try {
        const twofactor::IniFile ini = twofactor::IniFile::parse(text, path);
        FUZZ_CHECK(ini.name() == path, "the file lost its name");
        check_ini(ini);
    } catch (const twofactor::ConfigError& e) {
        syntax_error = e.what();
        FUZZ_CHECK(starts_with(*syntax_error, path + ":"), "an error does not name the file");
    } catch (const std::exception& e) {
        std::fprintf(stderr, "IniFile::parse threw a non-ConfigError: %s\n", e.what());
        std::abort();
    }

    try {
        const twofactor::Settings settings = twofactor::load_settings(path, true);
        FUZZ_CHECK(!syntax_error, "load_settings() accepted a file IniFile::parse() rejected");
        check_settings(settings);
    } catch (const twofactor::ConfigError& e) {
        // Errors name the config file, or the auth_token_file it points to.
        const std::string what = e.what();
        FUZZ_CHECK(what.find(": ") != std::string::npos, "a settings error names no file");
        FUZZ_CHECK(!syntax_error || what == *syntax_error,
                   "load_settings() and IniFile::parse() disagree on a syntax error");
    } catch (const std::exception& e) {
        std::fprintf(stderr, "load_settings threw a non-ConfigError: %s\n", e.what());
        std::abort();
    }
    return 0;
}
