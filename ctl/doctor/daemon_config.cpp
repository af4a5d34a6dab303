// SPDX-License-Identifier: BSD-2-Clause
// The daemon's own files: whether others may change or read them, and the fleet mode in which
// every host holds the data key.
#include <sys/stat.h>

#include <optional>

#include "common/ini.h"
#include "ctl/doctor/checks.h"
#include "ctl/doctor/passwd.h"
#include "paths.h"

namespace twofactor::ctl::doctor {

namespace {

struct Owners {
    std::optional<uid_t> daemon_uid;
    std::optional<gid_t> daemon_gid;
};

bool trusted_uid(const Owners& o, uid_t uid) {
    return uid == 0 || (o.daemon_uid && uid == *o.daemon_uid);
}
bool trusted_gid(const Owners& o, gid_t gid) {
    return gid == 0 || (o.daemon_gid && gid == *o.daemon_gid);
}

// Adds a finding when users other than root and the daemon's may change the file (and, for a
// secret, read it). Returns false when the file does not exist.
bool check_file(const Tree& tree, const Owners& owners, const std::string& path,
                const std::string& what, bool secret, const std::string& where, int line,
                Findings& findings) {
    struct stat st {};
    if (::stat(tree.host_path(path).c_str(), &st) != 0) return false;
    const bool group_untrusted = !trusted_gid(owners, st.st_gid);
    const bool writable = !trusted_uid(owners, st.st_uid) || (st.st_mode & S_IWOTH) ||
                          ((st.st_mode & S_IWGRP) && group_untrusted);
    if (writable)
        findings.add(
            Severity::Critical, "daemon-file-writable",
            what + " " + path + " may be changed by users other than root and the daemon's",
            where.empty() ? path : where, line,
            "chown root:root " + path + " && chmod go-w " + path);
    const bool readable = (st.st_mode & S_IROTH) || ((st.st_mode & S_IRGRP) && group_untrusted);
    if (secret && readable)
        findings.add(Severity::Critical, "daemon-file-readable",
                     what + " " + path + " may be read by users other than root and the daemon's",
                     where.empty() ? path : where, line, "chmod 0600 " + path);
    return true;
}

}  // namespace

DaemonConfig check_daemon_config(const Tree& tree, Findings& findings) {
    DaemonConfig config;
    config.file = paths::kConfig;
    Owners owners;
    if (auto account = find_account(tree, paths::kDaemonUser)) {
        owners.daemon_uid = account->uid;
        owners.daemon_gid = account->gid;
    }

    TextFile text;
    std::string error;
    std::optional<IniFile> ini;
    switch (tree.read(config.file, text, error)) {
        case ReadResult::Missing:
            break;
        case ReadResult::Failed:
            findings.add(Severity::Warning, "daemon-config",
                         "cannot read " + config.file + ": " + error, config.file, 0,
                         "make it readable by root");
            break;
        case ReadResult::Ok: {
            std::string joined;
            for (const auto& line : text.lines) joined += line + "\n";
            try {
                ini = IniFile::parse(joined, config.file);
            } catch (const ConfigError& e) {
                findings.add(Severity::Warning, "daemon-config", e.what(), config.file, 0,
                             "fix the configuration: the daemon refuses to start with it");
            }
        }
    }
    auto value = [&](const char* section, const char* key) -> std::optional<IniValue> {
        return ini ? ini->get(section, key) : std::nullopt;
    };
    if (auto v = value("trust", "max_seconds")) {
        try {
            config.trust_max_seconds = std::stoll(v->value);
        } catch (const std::exception&) {
        }
    }
    if (auto v = value("daemon", "socket")) config.socket = v->value;

    const std::string directory =
        std::string(paths::kConfig).substr(0, std::string(paths::kConfig).rfind('/'));
    check_file(tree, owners, directory, "the configuration directory", false, "", 0, findings);
    check_file(tree, owners, config.file, "the configuration", false, "", 0, findings);
    if (auto token = value("twilio", "auth_token")) {
        struct stat st {};
        if (::stat(tree.host_path(config.file).c_str(), &st) == 0 && (st.st_mode & S_IROTH))
            findings.add(Severity::Critical, "daemon-file-readable",
                         "the Twilio auth token is written in the configuration, which every "
                         "user may read",
                         config.file, token->line,
                         "move it to auth_token_file (0600) or the credential twilio-auth-token");
    }

    // Secret files, where the configuration names them (else their defaults).
    auto key_file = value("daemon", "key_file");
    const std::string key_path = key_file ? key_file->value : paths::kKeyFile;
    const bool key_here =
        check_file(tree, owners, key_path, "the data key", true, key_file ? config.file : "",
                   key_file ? key_file->line : 0, findings);
    const std::pair<const char*, const char*> secrets[] = {
        {"twilio", "auth_token_file"},   {"twilio", "api_key_secret_file"},
        {"postgresql", "password_file"}, {"listen", "key_file"},
        {"remote", "key_file"},
    };
    for (const auto& [section, key] : secrets)
        if (auto v = value(section, key))
            check_file(tree, owners, v->value, std::string("[") + section + "] " + key, true,
                       config.file, v->line, findings);

    if (auto backend = value("store", "backend");
        backend && backend->value == "postgresql" && key_here)
        findings.add(Severity::Warning, "daemon-shared-key",
                     "shared-key fleet mode: this host holds the data key of every user's secret "
                     "in the fleet; root here can read them all and mint codes for any host",
                     config.file, backend->line,
                     "keep the key on servers only: make login hosts agents ([store] backend = "
                     "remote), see twofactord.conf(5)");
    return config;
}

}  // namespace twofactor::ctl::doctor
