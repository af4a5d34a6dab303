// SPDX-License-Identifier: BSD-2-Clause
// twofactord: holds the secrets, texts the codes, checks them. Never forks: systemd (Type=notify,
// socket activation) and a person at a terminal run it the same way.
#include <getopt.h>
#include <openssl/crypto.h>
#include <signal.h>
#include <sys/stat.h>
#include <systemd/sd-daemon.h>
#include <systemd/sd-event.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <iostream>
#include <memory>
#include <optional>
#include <string>

#include "common/credentials.h"
#include "common/errno_text.h"
#include "common/ini.h"
#include "daemon/config/settings.h"
#include "daemon/keys/cipher.h"
#include "daemon/keys/fresh_start.h"
#include "daemon/keys/key_check.h"
#include "daemon/log/log.h"
#include "daemon/log/log_budget.h"
#include "daemon/runtime/dispatcher.h"
#include "daemon/runtime/forwarder.h"
#include "daemon/runtime/host_policy.h"
#include "daemon/runtime/loop_messenger.h"
#include "daemon/runtime/server.h"
#include "daemon/runtime/shutdown.h"
#include "daemon/runtime/tls_listener.h"
#include "daemon/runtime/worker_pool.h"
#include "daemon/service/service.h"
#include "daemon/store/import.h"
#include "daemon/store/sqlite/sqlite_store.h"
#include "daemon/store/store.h"
#include "daemon/twilio/twilio.h"
#include "paths.h"

namespace twofactor {
namespace {

constexpr uint64_t kHousekeepingUsec = 60ULL * 1000000ULL;

struct Options {
    std::string config = paths::kConfig;
    bool config_given = false;
    std::string socket;
    std::string database;
    std::string key_file;
    std::string import_sqlite;  // copy this SQLite database into the configured store, exit
    bool debug = false;
};

void usage(std::FILE* to) {
    std::fprintf(to,
                 "Usage: twofactord [OPTIONS]\n"
                 "The twofactor daemon: texts one-time codes through Twilio and checks them.\n\n"
                 "  --config PATH     configuration file (default %s)\n"
                 "  --socket PATH     socket to listen on when not socket-activated\n"
                 "  --database PATH   SQLite database\n"
                 "  --key-file PATH   encryption key file when no systemd credential is given\n"
                 "  --import-sqlite DB  copy DB (sealed with the same key) into the configured\n"
                 "                    store, print what was copied, exit\n"
                 "  --debug           log debug messages\n"
                 "  --version         print the version\n"
                 "  --help            print this help\n",
                 paths::kConfig);
}

// Exits 2 on a usage error, 0 after --help or --version.
Options parse_options(int argc, char** argv) {
    enum { kConfig = 1, kSocket, kDatabase, kKeyFile, kImport, kDebug, kVersion, kHelp };
    static const option kLong[] = {{"config", required_argument, nullptr, kConfig},
                                   {"socket", required_argument, nullptr, kSocket},
                                   {"database", required_argument, nullptr, kDatabase},
                                   {"key-file", required_argument, nullptr, kKeyFile},
                                   {"import-sqlite", required_argument, nullptr, kImport},
                                   {"debug", no_argument, nullptr, kDebug},
                                   {"version", no_argument, nullptr, kVersion},
                                   {"help", no_argument, nullptr, kHelp},
                                   {nullptr, 0, nullptr, 0}};
    Options o;
    int c;
    while ((c = getopt_long(argc, argv, "", kLong, nullptr)) != -1) {
        switch (c) {
            case kConfig:
                o.config = optarg;
                o.config_given = true;
                break;
            case kSocket:
                o.socket = optarg;
                break;
            case kDatabase:
                o.database = optarg;
                break;
            case kKeyFile:
                o.key_file = optarg;
                break;
            case kImport:
                o.import_sqlite = optarg;
                break;
            case kDebug:
                o.debug = true;
                break;
            case kVersion:
                std::printf("twofactord %s\n", paths::kVersion);
                std::exit(0);
            case kHelp:
                usage(stdout);
                std::exit(0);
            default:
                usage(stderr);
                std::exit(2);
        }
    }
    if (optind < argc) {
        std::fprintf(stderr, "twofactord: unexpected argument '%s'\n", argv[optind]);
        usage(stderr);
        std::exit(2);
    }
    return o;
}

// A systemd credential's content without its trailing newline; empty when not passed.
std::string read_credential(const char* name) {
    const auto path = credential_path(name);
    if (!path) return {};
    return read_secret_text(*path).value_or("");
}

// systemd's credentials win over the config file: the secrets then never sit in /etc.
void apply_credentials(Settings& settings) {
    if (std::string token = read_credential("twilio-auth-token"); !token.empty())
        settings.twilio.auth_token = SecureString(std::move(token));
    if (std::string secret = read_credential("twilio-api-key-secret"); !secret.empty())
        settings.twilio.api_key_secret = SecureString(std::move(secret));
    if (std::string password = read_credential("postgresql-password"); !password.empty())
        settings.store.password = SecureString(std::move(password));
}

// Where the store is, for the log: the SQLite file, or the PostgreSQL conninfo (which never
// holds the password).
std::string store_name(const StoreSettings& store) {
    return store.backend == StoreSettings::Backend::Postgresql ? "postgresql: " + store.conninfo
                                                               : store.database;
}

// --import-sqlite: the source must exist (opening would create it) and open with the same key.
int import_sqlite(const std::string& path, const Cipher& cipher, const std::string& key,
                  Store& to) {
    struct stat st {};
    if (stat(path.c_str(), &st) != 0)
        throw StoreError("cannot import " + path + ": " + std::strerror(errno));
    SqliteStore from(path, cipher);
    check_key(from, cipher, key, path);
    // A trust row the key did not make (its MAC does not match) is not copied; the log says so.
    from.observe_forged_trusts([](const Trust& t) {
        log::warning(
            "trust not imported: its MAC does not match, it was not written with the key",
            {{"user", t.user}, {"service", t.service}, {"origin", t.origin}, {"host", t.host}});
    });
    const ImportCounts counts = import_store(from, to);
    std::printf("imported %s: %s\n", path.c_str(), describe(counts).c_str());
    log::notice("imported a SQLite database", {{"from", path}, {"counts", describe(counts)}});
    return 0;
}

std::int64_t unix_now() {
    return static_cast<std::int64_t>(std::time(nullptr));
}

int on_housekeeping(sd_event_source* source, uint64_t, void* userdata) {
    static_cast<Dispatcher*>(userdata)->housekeeping();
    int r = sd_event_source_set_time_relative(source, kHousekeepingUsec);
    if (r >= 0) r = sd_event_source_set_enabled(source, SD_EVENT_ONESHOT);
    if (r < 0)
        log::error("cannot schedule the next housekeeping; expired challenges now stay stored",
                   {{"usec", std::to_string(kHousekeepingUsec)}, {"error", errno_text(-r)}});
    return r;
}

Settings configure(const Options& options) {
    Settings settings = load_settings(options.config, options.config_given);
    if (settings.is_agent() && (!options.database.empty() || !options.key_file.empty()))
        throw ConfigError(options.config +
                          ": an agent ([store] backend = remote) holds no database and no data "
                          "key: drop --database and --key-file");
    if (!options.socket.empty()) settings.daemon.socket = options.socket;
    if (!options.database.empty()) settings.daemon.database = options.database;
    if (!options.key_file.empty()) settings.daemon.key_file = options.key_file;
    if (options.debug) settings.daemon.debug = true;
    apply_credentials(settings);
    log::init(settings.daemon.debug);
    log::limit_callers(settings.daemon.log_lines_per_uid);
    return settings;
}

void warn_about_twilio(const TwilioSettings& account) {
    if (account.account_sid.empty() ||
        (account.api_key_sid.empty() ? account.auth_token.empty() : account.api_key_secret.empty()))
        log::warning(
            "Twilio is not configured (account_sid, and api_key_sid with its secret or "
            "auth_token): texts will fail");
    if (!account.verify_service_sid.empty())
        log::notice("Twilio Verify makes and checks the texted codes",
                    {{"verify_service_sid", account.verify_service_sid}});
    // Begin must answer before the module stops waiting; a caller that names its own timeout
    // cuts the budget itself, but one that does not relies on this.
    const auto budget = std::chrono::duration_cast<std::chrono::seconds>(account.deadline);
    if (budget.count() + kAnswerMarginSeconds > protocol::kDefaultModuleTimeoutSeconds)
        log::warning(
            "[twilio] timeout leaves no time to answer within pam_twofactor's default "
            "timeout: a login whose text is slow could be cut off",
            {{"twilio_timeout", std::to_string(budget.count())},
             {"module_timeout", std::to_string(protocol::kDefaultModuleTimeoutSeconds)},
             {"longest_safe",
              std::to_string(protocol::kDefaultModuleTimeoutSeconds - kAnswerMarginSeconds)}});
}

// The key and the database, checked together before either is created or written.
std::unique_ptr<Store> open_checked_store(Settings& settings, const Cipher& cipher,
                                          bool key_was_there) {
    if (!key_was_there)
        log::notice("created a new encryption key", {{"key_file", settings.daemon.key_file}});
    settings.store.database = settings.daemon.database;
    std::unique_ptr<Store> store = open_store(settings.store, cipher);
    check_key(*store, cipher, key_name(settings.daemon.key_file), store_name(settings.store));
    return store;
}

// The loop, with SIGTERM, SIGINT and SIGHUP blocked (to be read as events) and the watchdog on.
std::unique_ptr<sd_event, sd_event* (*)(sd_event*)> make_loop() {
    sd_event* loop = nullptr;
    int r = sd_event_default(&loop);
    if (r < 0) throw std::runtime_error("cannot create the event loop: " + errno_text(-r));
    // Unreferenced last, on every way out, after everything that holds a source on it.
    std::unique_ptr<sd_event, sd_event* (*)(sd_event*)> reference(loop, sd_event_unref);
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGINT);
    // SIGHUP rereads the hosts file; blocked before any thread starts, so that none takes it.
    sigaddset(&mask, SIGHUP);
    if (sigprocmask(SIG_BLOCK, &mask, nullptr) < 0)
        throw std::runtime_error("cannot block SIGTERM, SIGINT and SIGHUP: " + errno_text(errno));
    signal(SIGPIPE, SIG_IGN);
    // SIGTERM and SIGINT are watched by each role's Shutdown, which knows what is in flight.
    r = sd_event_set_watchdog(loop, 1);
    if (r < 0) throw std::runtime_error("cannot start the systemd watchdog: " + errno_text(-r));
    return reference;
}

// Serves calls until SIGTERM or SIGINT: the Twilio client and the server on the loop, the
// service on the workers (doc/architecture.md). Returns the loop's status.
// A call from a login host: refused unless the host may make it, its answer shaped for the host.
Server::Handler host_handler(Dispatcher& dispatcher, HostPolicy& policy) {
    return [&dispatcher, &policy](const Caller& caller, const protocol::Request& request,
                                  Reply reply) {
        protocol::Request scoped = request;
        if (auto refusal = policy.admit(caller, scoped)) {
            log::HostScope host(caller.host);
            log::notice("refused a login host's call",
                        {{"method", request.method.substr(0, 200)},
                         {"uid", std::to_string(caller.uid)},
                         {"error", (*refusal)["error"].get<std::string>()}});
            reply(std::move(*refusal));
            return;
        }
        Reply shaped(
            [&policy, caller, method = scoped.method, reply](protocol::json answer) mutable {
                policy.shape_answer(caller, method, answer);
                reply(std::move(answer));
            });
        dispatcher.handle(caller, scoped, std::move(shaped));
    };
}

// The server's TLS key: the credential twofactord-tls.key, else [listen] key_file.
std::string tls_key_path(const ListenSettings& listen) {
    if (auto credential = given_credential_path("twofactord-tls.key")) return *credential;
    if (listen.key_file.empty())
        throw ConfigError(
            "[listen] address needs the server's TLS key: key_file or the credential "
            "twofactord-tls.key");
    return listen.key_file;
}

int on_reload(sd_event_source*, const signalfd_siginfo*, void* userdata) {
    if (userdata == nullptr) {
        log::notice("SIGHUP: nothing to reload (no [listen] address)");
        return 0;
    }
    log::notice("reloading on SIGHUP");
    static_cast<TlsListener*>(userdata)->reload();
    return 0;
}

int serve(sd_event* loop, const Settings& settings, Store& store, HostPolicy* policy) {
    TwilioClient twilio(loop, settings.twilio);
    // Stopped (joined) right after the loop, while the service its jobs use still exists.
    // PostgreSQL: one thread per connection; SQLite: one, its connection's only user.
    WorkerPool workers(loop, settings.store.backend == StoreSettings::Backend::Postgresql
                                 ? settings.store.connections
                                 : 1);
    LoopMessenger messenger(workers, twilio);
    Service service(settings, store, messenger, unix_now);
    // A call whose caller names no timeout waits at most for the store, then for Twilio.
    const auto store_timeout = std::chrono::seconds(settings.store.timeout);
    Dispatcher dispatcher(
        loop, workers, service, store_timeout,
        store_timeout + settings.twilio.deadline + std::chrono::seconds(kAnswerMarginSeconds));
    ListenSocket listener = open_listen_socket(settings.daemon.socket);
    Server server(
        loop, listener.fd,
        [&dispatcher](const Caller& caller, const protocol::Request& request, Reply reply) {
            dispatcher.handle(caller, request, std::move(reply));
        },
        settings.daemon);
    // A server of a fleet: login hosts over TLS, each call through the host policy.
    std::optional<Server> host_server;
    std::optional<TlsListener> tls;
    sd_event_source* reload = nullptr;
    if (policy != nullptr) {
        host_server.emplace(loop, -1, host_handler(dispatcher, *policy), settings.daemon);
        tls.emplace(loop, settings.listen, tls_key_path(settings.listen),
                    settings.daemon.idle_timeout, *host_server);
        log::notice("listening for login hosts", {{"address", settings.listen.address},
                                                  {"hosts_file", settings.listen.hosts_file}});
    }
    int r = sd_event_add_signal(loop, &reload, SIGHUP, on_reload, tls ? &*tls : nullptr);
    if (r < 0) throw std::runtime_error("cannot watch SIGHUP: " + errno_text(-r));
    std::vector<Server*> servers{&server};
    if (host_server) servers.push_back(&*host_server);
    // A call in flight when SIGTERM comes is answered: at most a call's longest wait.
    Shutdown shutdown(
        loop, servers, tls ? &*tls : nullptr,
        store_timeout + settings.twilio.deadline + std::chrono::seconds(kAnswerMarginSeconds));
    sd_event_source* housekeeping = nullptr;
    r = sd_event_add_time_relative(loop, &housekeeping, CLOCK_MONOTONIC, kHousekeepingUsec, 0,
                                   on_housekeeping, &dispatcher);
    if (r < 0)
        throw std::runtime_error("cannot schedule housekeeping every " +
                                 std::to_string(kHousekeepingUsec / 1000000) +
                                 " s: " + errno_text(-r));

    log::notice("ready", {{"socket", listener.bound_here ? listener.path : "socket-activated"},
                          {"database", store_name(settings.store)}});
    sd_notify(0, "READY=1\nSTATUS=Serving two-factor requests");
    const int status = sd_event_loop(loop);
    if (status < 0) log::error("the event loop failed", {{"error", errno_text(-status)}});
    workers.stop();
    sd_event_source_disable_unref(housekeeping);
    sd_event_source_disable_unref(reload);
    if (listener.bound_here) unlink(listener.path.c_str());
    return status;
}

// The agent's TLS key: the credential twofactord-agent.key, else [remote] key_file.
std::string agent_key_path(const RemoteSettings& remote) {
    if (auto credential = given_credential_path("twofactord-agent.key")) return *credential;
    if (remote.key_file.empty())
        throw ConfigError(
            "[store] backend = remote needs the agent's TLS key: [remote] key_file or the "
            "credential twofactord-agent.key");
    return remote.key_file;
}

// Calls to an agent wait for a server on a worker each, this many at once.
constexpr int kAgentThreads = 16;

// An agent: the Unix socket as ever, every call forwarded to a server; no store, no key, no
// Twilio. Serves until SIGTERM or SIGINT; returns the loop's status.
int serve_agent(sd_event* loop, const Settings& settings) {
    WorkerPool workers(loop, kAgentThreads);
    Forwarder forwarder(settings.remote, agent_key_path(settings.remote), workers);
    ListenSocket listener = open_listen_socket(settings.daemon.socket);
    Server server(
        loop, listener.fd,
        [&forwarder](const Caller& caller, const protocol::Request& request, Reply reply) {
            forwarder.handle(caller, request, std::move(reply));
        },
        settings.daemon);
    sd_event_source* reload = nullptr;
    int r = sd_event_add_signal(loop, &reload, SIGHUP, on_reload, nullptr);
    if (r < 0) throw std::runtime_error("cannot watch SIGHUP: " + errno_text(-r));
    Shutdown shutdown(loop, {&server}, nullptr,
                      std::chrono::seconds(settings.remote.timeout + kAnswerMarginSeconds));
    std::string servers;
    for (const auto& s : settings.remote.servers) servers += (servers.empty() ? "" : ", ") + s;
    log::notice("ready, as an agent",
                {{"socket", listener.bound_here ? listener.path : "socket-activated"},
                 {"servers", servers}});
    sd_notify(0, "READY=1\nSTATUS=Forwarding two-factor requests to the servers");
    const int status = sd_event_loop(loop);
    if (status < 0) log::error("the event loop failed", {{"error", errno_text(-status)}});
    workers.stop();
    sd_event_source_disable_unref(reload);
    if (listener.bound_here) unlink(listener.path.c_str());
    return status;
}

int run(const Options& options) {
    Settings settings = configure(options);
    if (settings.is_agent()) {
        auto loop = make_loop();
        const int status = serve_agent(loop.get(), settings);
        log::notice("stopped");
        return status < 0 ? 1 : 0;
    }
    warn_about_twilio(settings.twilio);
    const bool key_was_there = key_exists(settings.daemon.key_file);
    // A PostgreSQL database is no file next to the key: there the key check value alone decides.
    if (settings.store.backend == StoreSettings::Backend::Sqlite)
        check_key_and_database(key_was_there, key_name(settings.daemon.key_file),
                               settings.daemon.database);
    auto key = load_key(settings.daemon.key_file);
    Cipher cipher(key);
    std::optional<HostPolicy> policy;
    if (!settings.listen.address.empty()) policy.emplace(key, settings.listen);
    OPENSSL_cleanse(key.data(), key.size());
    std::unique_ptr<Store> store = open_checked_store(settings, cipher, key_was_there);
    if (!options.import_sqlite.empty())
        return import_sqlite(options.import_sqlite, cipher, key_name(settings.daemon.key_file),
                             *store);
    auto loop = make_loop();
    const int status = serve(loop.get(), settings, *store, policy ? &*policy : nullptr);
    log::notice("stopped");
    return status < 0 ? 1 : 0;
}

}  // namespace
}  // namespace twofactor

int main(int argc, char** argv) {
    auto options = twofactor::parse_options(argc, argv);
    twofactor::log::init(options.debug);
    try {
        return twofactor::run(options);
    } catch (const std::exception& e) {
        twofactor::log::error(e.what());
        sd_notifyf(0, "STATUS=Failed: %s", e.what());
        return 1;
    }
}
