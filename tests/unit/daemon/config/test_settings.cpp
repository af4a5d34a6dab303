// SPDX-License-Identifier: BSD-2-Clause
#include <csetjmp>
#include <cstdarg>
#include <cstddef>
#include <cstdint>

#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

#include "common/ini.h"
#include "daemon/config/settings.h"

// cmocka last: its fail() macro would break the C++ headers.
extern "C" {
#include <cmocka.h>
}

using twofactor::ConfigError;
using twofactor::load_settings;

namespace {

std::string g_path;

int make_path(void**) {
    char pattern[] = "/tmp/twofactor-settings-XXXXXX";
    int fd = mkstemp(pattern);
    if (fd < 0) return -1;
    close(fd);
    g_path = pattern;
    return 0;
}

int remove_path(void**) {
    std::remove(g_path.c_str());
    return 0;
}

void write_config(const std::string& text) {
    std::ofstream(g_path, std::ios::trunc) << text;
}

// Loads the config and returns the error text, or "" when it loaded.
std::string load_error() {
    try {
        load_settings(g_path, true);
        return "";
    } catch (const ConfigError& e) {
        return e.what();
    }
}

}  // namespace

static void a_full_file_is_read(void**) {
    write_config(
        "[daemon]\nsocket = /tmp/s\ndatabase = /tmp/d.db\nkey_file = /tmp/k\ndebug = yes\n"
        "[twilio]\naccount_sid = AC0123456789abcdef0123456789ABCDEF\nauth_token = tok\n"
        "from = +15005550006\n"
        "api_url = http://127.0.0.1:8080\ntimeout = 15\n"
        "[sms]\ndefault_country_code = 1\nmessage = \"Code: {code} #1\"\n"
        "allowed_country_codes = 1, 44\n"
        "[login]\nchallenge_lifetime = 120\ntries = 3\n"
        "[lockout]\nfailures = 20\nwindow = 600\nduration = 60\n"
        "[trust]\nmax_seconds = 3600\nhost_id = web1.example:a\n");
    auto s = load_settings(g_path, true);
    assert_string_equal(s.daemon.socket.c_str(), "/tmp/s");
    assert_true(s.daemon.debug);
    assert_string_equal(s.twilio.auth_token.c_str(), "tok");
    assert_int_equal(s.twilio.deadline.count(), 15000);
    assert_string_equal(s.sms.default_country_code.c_str(), "1");
    assert_string_equal(s.sms.message.c_str(), "Code: {code} #1");
    assert_int_equal(s.sms.allowed_country_codes.size(), 2);
    assert_string_equal(s.sms.allowed_country_codes[1].c_str(), "44");
    assert_int_equal(s.login.challenge_lifetime, 120);
    assert_int_equal(s.login.lockout_failures, 20);
    assert_int_equal(s.trust.max_seconds, 3600);
    assert_string_equal(s.trust.host_id.c_str(), "web1.example:a");
}

static void a_missing_file_gives_defaults_unless_required(void**) {
    auto s = load_settings("/nonexistent/twofactord.conf", false);
    assert_int_equal(s.login.challenge_lifetime, 300);
    assert_int_equal(s.login.tries, 5);
    assert_int_equal(s.login.lockout_failures, 10);
    assert_int_equal(s.login.lockout_duration, 900);
    assert_int_equal(s.trust.max_seconds, 43200);
    assert_true(s.trust.host_id.empty());  // derived from the machine when the daemon starts
    bool threw = false;
    try {
        load_settings("/nonexistent/twofactord.conf", true);
    } catch (const ConfigError&) {
        threw = true;
    }
    assert_true(threw);
}

static void errors_name_the_file_line_and_problem(void**) {
    write_config("[login]\ntries = many\n");
    auto e = load_error();
    assert_true(e.find(g_path + ":2:") == 0);
    assert_true(e.find("whole number") != std::string::npos);

    write_config("[lockout]\nfailures = 101\n");
    assert_true(load_error().find("between 1 and 100") != std::string::npos);

    write_config("[trust]\nmax_seconds = 2592001\n");
    assert_true(load_error().find("between 0 and 2592000") != std::string::npos);

    write_config("[trust]\nhost_id = web 1\n");
    assert_true(load_error().find("host_id must be 1 to 253 letters") != std::string::npos);

    write_config("[daemon]\nsokcet = /tmp/x\n");
    assert_true(load_error().find("unknown key 'sokcet'") != std::string::npos);

    write_config("[nonsense]\na = b\n");
    assert_true(load_error().find("unknown section") != std::string::npos);

    write_config("[sms]\nmessage = no placeholder\n");
    assert_true(load_error().find("{code}") != std::string::npos);
    // Too long for one text once {service} and {host} hold 32 characters each: refused with
    // the file and line.
    write_config("[sms]\n\nmessage = {code} for {service} on {host}" + std::string(100, '.') +
                 "\n");
    assert_true(load_error().find(":3: message is 179 GSM-7 characters") != std::string::npos);
    write_config("[sms]\ntexts_per_prefix_per_day = 0\n");
    assert_true(load_error().find(":2:") != std::string::npos);
    write_config("[sms]\nmessage = {code} for {user}\n");
    assert_true(load_error().find(":2: message names {user}") != std::string::npos);

    write_config("[sms]\ndefault_country_code = one\n");
    assert_true(load_error().find("country calling code") != std::string::npos);

    // Both keys take calling codes by one rule: no code starts with 0.
    write_config("[sms]\ndefault_country_code = 044\n");
    assert_true(load_error().find("country calling code") != std::string::npos);
    write_config("[sms]\nallowed_country_codes = 1, 044\n");
    assert_true(load_error().find("'044' is not one") != std::string::npos);

    write_config("[twilio]\napi_url = http://example.com\n");
    assert_true(load_error().find(":2:") != std::string::npos);

    write_config("[daemon]\ndebug = perhaps\n");
    assert_true(load_error().find("yes or no") != std::string::npos);
}

static void the_token_may_come_from_a_file(void**) {
    std::string token_path = g_path + ".token";
    std::ofstream(token_path) << "secret-token\n";
    write_config("[twilio]\nauth_token_file = " + token_path + "\n");
    auto s = load_settings(g_path, true);
    assert_string_equal(s.twilio.auth_token.c_str(), "secret-token");
    write_config("[twilio]\nauth_token = a\nauth_token_file = " + token_path + "\n");
    assert_true(load_error().find("not both") != std::string::npos);
    std::remove(token_path.c_str());
    write_config("[twilio]\nauth_token_file = " + token_path + "\n");
    assert_true(load_error().find("No such file") != std::string::npos);
}

// Issue 12: every Twilio SID is AC, SK, MG or VA and 32 hex digits; anything else stops the
// daemon with the file and line.
static void malformed_sids_are_refused_with_file_and_line(void**) {
    const char* kHex = "0123456789abcdef0123456789abcdef";
    struct Case {
        const char* key;
        std::string value;
    };
    const Case bad[] = {
        {"account_sid", "AC123"},
        {"account_sid", std::string("SK") + kHex},
        {"account_sid", std::string("AC") + kHex + "0"},
        {"account_sid", std::string("AC") + std::string(31, '0') + "g"},
        {"api_key_sid", std::string("AC") + kHex},
        {"messaging_service_sid", std::string("MG") + std::string(30, 'a')},
        {"verify_service_sid", std::string("MG") + kHex},
    };
    for (const auto& c : bad) {
        write_config("[twilio]\n# a comment\n" + std::string(c.key) + " = " + c.value + "\n");
        std::string e = load_error();
        assert_true(e.find(g_path + ":3: " + c.key + " must be ") == 0);
        assert_true(e.find("32 hex digits") != std::string::npos);
    }
    write_config(std::string("[twilio]\naccount_sid = AC") + kHex + "\napi_key_sid = SK" + kHex +
                 "\nmessaging_service_sid = MG" + kHex + "\nverify_service_sid = VA" + kHex + "\n");
    auto s = load_settings(g_path, true);
    assert_string_equal(s.twilio.verify_service_sid.c_str(), (std::string("VA") + kHex).c_str());
    assert_string_equal(s.twilio.api_key_sid.c_str(), (std::string("SK") + kHex).c_str());
}

static void an_api_key_secret_comes_from_a_file(void**) {
    std::string secret_path = g_path + ".secret";
    std::ofstream(secret_path) << "key-secret\n";
    write_config(
        "[twilio]\napi_key_sid = SK0123456789abcdef0123456789abcdef\n"
        "api_key_secret_file = " +
        secret_path + "\n");
    auto s = load_settings(g_path, true);
    assert_string_equal(s.twilio.api_key_secret.c_str(), "key-secret");
    write_config("[twilio]\napi_key_secret_file = " + secret_path + "\n");
    assert_true(load_error().find(":2: api_key_secret_file needs api_key_sid") !=
                std::string::npos);
    std::remove(secret_path.c_str());
}

static void edge_and_region_build_the_url(void**) {
    write_config("[twilio]\nedge = dublin\nregion = ie1\n");
    assert_string_equal(load_settings(g_path, true).twilio.api_url.c_str(),
                        "https://api.dublin.ie1.twilio.com");
    write_config("[twilio]\nedge = sydney\n");
    assert_string_equal(load_settings(g_path, true).twilio.api_url.c_str(),
                        "https://api.sydney.us1.twilio.com");
    write_config("[twilio]\nregion = au1\n");
    assert_string_equal(load_settings(g_path, true).twilio.api_url.c_str(),
                        "https://api.au1.twilio.com");
    write_config("[twilio]\nregion = au1\napi_url = https://example.com\n");
    assert_true(load_error().find(":3: give api_url or edge and region, not both") !=
                std::string::npos);
    write_config("[twilio]\nedge = dub.lin\n");
    assert_true(load_error().find(":2: edge must be a Twilio location name") != std::string::npos);
    write_config("[twilio]\nca_file = /nonexistent/ca.pem\n");
    assert_true(load_error().find(":2: ca_file /nonexistent/ca.pem: No such file") !=
                std::string::npos);
}

// Issue 11, voice: off by default; on, it needs a number to call from (or Verify).
static void voice_needs_a_number_to_call_from(void**) {
    write_config("[twilio]\nfrom = +15005550006\n");
    assert_false(load_settings(g_path, true).voice.enabled);
    write_config("[twilio]\nfrom = +15005550006\n[voice]\nenabled = yes\n");
    assert_true(load_settings(g_path, true).voice.enabled);
    write_config(
        "[voice]\nenabled = yes\n[twilio]\nverify_service_sid = "
        "VA0123456789abcdef0123456789abcdef\n");
    assert_true(load_settings(g_path, true).voice.enabled);
    write_config("[voice]\nenabled = no\n");
    assert_false(load_settings(g_path, true).voice.enabled);

    write_config(
        "[twilio]\nmessaging_service_sid = MG0123456789abcdef0123456789abcdef\n"
        "[voice]\nenabled = yes\n");
    const std::string why = load_error();
    assert_true(why.find(":4: enabled = yes needs [twilio] from") != std::string::npos);
    assert_true(why.find("messaging_service_sid cannot place calls") != std::string::npos);
    write_config("[voice]\nenabled = sometimes\n");
    assert_true(load_error().find(":2: enabled must be yes or no, not 'sometimes'") !=
                std::string::npos);
    write_config("[voice]\nlanguage = fr\n");
    assert_true(load_error().find(":2: unknown key 'language' in [voice]") != std::string::npos);
}

static void the_store_section_picks_a_backend(void**) {
    auto s = load_settings(g_path, true);
    assert_true(s.store.backend == twofactor::StoreSettings::Backend::Sqlite);

    std::string password_path = g_path + ".pgpass";
    std::ofstream(password_path) << "s3cret\n";
    chmod(password_path.c_str(), 0600);
    write_config(
        "[store]\nbackend = postgresql\ntimeout = 7\n[postgresql]\n"
        "conninfo = host=db1 dbname=twofactor user=twofactord sslmode=verify-full\n"
        "password_file = " +
        password_path + "\nconnect_timeout = 3\nconnections = 9\n");
    s = load_settings(g_path, true);
    assert_true(s.store.backend == twofactor::StoreSettings::Backend::Postgresql);
    assert_string_equal(s.store.password.c_str(), "s3cret");
    assert_int_equal(s.store.timeout, 7);
    assert_int_equal(s.store.connect_timeout, 3);
    assert_int_equal(s.store.connections, 9);
    std::remove(password_path.c_str());

    write_config("[store]\nbackend = mysql\n");
    assert_true(load_error().find("sqlite or postgresql") != std::string::npos);
    write_config("[store]\nbackend = postgresql\n");
    assert_true(load_error().find("needs [postgresql] conninfo") != std::string::npos);
    write_config(
        "[store]\nbackend = postgresql\n[postgresql]\n"
        "conninfo = host=db1 password=hunter2\n");
    assert_true(load_error().find("must not hold the password") != std::string::npos);
    write_config(
        "[store]\nbackend = postgresql\n[postgresql]\n"
        "conninfo = postgresql://twofactord:hunter2@db1/twofactor\n");
    assert_true(load_error().find("must not hold the password") != std::string::npos);
    write_config("[store]\nbackend = postgresql\n[postgresql]\nconninfo = host='db1\n");
    assert_true(load_error().find("cannot be parsed") != std::string::npos);
    write_config("[postgresql]\nconninfo = host=db1\nconnections = 0\n");
    assert_true(load_error().find(":3: connections must be between 1 and 64, not 0") !=
                std::string::npos);
    assert_int_equal(twofactor::StoreSettings{}.connections, 4);
}

// The conninfo line with `conninfo` under [postgresql] (line 4) and `extra` after it.
std::string postgresql_config(const std::string& conninfo, const std::string& extra = "") {
    return "[store]\nbackend = postgresql\n[postgresql]\nconninfo = " + conninfo + "\n" + extra;
}

static void only_a_verified_connection_may_leave_the_machine(void**) {
    // This machine's server: any sslmode, whichever way the conninfo names it.
    for (const char* local :
         {"host=127.0.0.1 dbname=twofactor sslmode=disable", "host=::1 sslmode=prefer",
          "host=localhost sslmode=allow", "host=127.0.0.2", "hostaddr=127.0.0.1 sslmode=disable",
          "host=/var/run/postgresql dbname=twofactor", "dbname=twofactor user=twofactord",
          "host=localhost,127.0.0.1,/run/postgresql", "postgresql://localhost/twofactor",
          "postgresql://127.0.0.1:5432/twofactor?sslmode=disable", "postgresql://[::1]/twofactor",
          "postgresql://%2Fvar%2Frun%2Fpostgresql/twofactor", "postgresql:///twofactor"}) {
        write_config(postgresql_config(local));
        assert_string_equal(load_error().c_str(), "");
    }
    // Another host: its certificate checked, or nothing.
    for (const char* verified :
         {"host=db1.example.org sslmode=verify-full", "host=10.0.0.5 sslmode=verify-ca",
          "host=db1,db2 sslmode=verify-full",
          "postgresql://db1.example.org/twofactor?sslmode=verify-full",
          "postgresql://db1,db2:5433/twofactor?sslmode=verify-ca"}) {
        write_config(postgresql_config(verified));
        assert_string_equal(load_error().c_str(), "");
    }
    for (const char* weak :
         {"host=db1.example.org dbname=twofactor", "host=db1.example.org sslmode=prefer",
          "host=db1.example.org sslmode=disable", "host=db1.example.org sslmode=allow",
          "host=db1.example.org sslmode=require", "hostaddr=10.0.0.5 sslmode=disable",
          "host=localhost hostaddr=192.0.2.7", "host=127.0.0.1,db2.example.org",
          "host=/run/postgresql,db2.example.org sslmode=require",
          "postgresql://db1.example.org/twofactor",
          "postgresql://db1.example.org/twofactor?sslmode=require",
          "postgresql://localhost,db2.example.org/twofactor",
          "service=twofactor dbname=twofactor"}) {
        write_config(postgresql_config(weak));
        const std::string error = load_error();
        assert_true(error.find(g_path + ":4: ") == 0);
        assert_true(error.find("sslmode=verify-full") != std::string::npos);
        assert_true(error.find("allow_insecure") != std::string::npos);
        // The administrator may say so.
        write_config(postgresql_config(weak, "allow_insecure = yes\n"));
        assert_string_equal(load_error().c_str(), "");
    }
    // What the conninfo leaves out, libpq takes from the environment.
    setenv("PGHOST", "db1.example.org", 1);
    write_config(postgresql_config("dbname=twofactor"));
    const std::string from_pghost = load_error();
    setenv("PGSSLMODE", "verify-full", 1);
    const std::string verified_by_pgsslmode = load_error();
    write_config(postgresql_config("host=/run/postgresql dbname=twofactor sslmode=disable"));
    const std::string socket_over_pghost = load_error();
    unsetenv("PGHOST");
    unsetenv("PGSSLMODE");
    assert_true(from_pghost.find(":4: conninfo reaches db1.example.org") != std::string::npos);
    assert_string_equal(verified_by_pgsslmode.c_str(), "");
    assert_string_equal(socket_over_pghost.c_str(), "");

    write_config(postgresql_config("host=db1.example.org", "allow_insecure = perhaps\n"));
    assert_true(load_error().find(":5: allow_insecure must be yes or no") != std::string::npos);
}

static void a_database_password_file_others_may_read_is_refused(void**) {
    std::string password_path = g_path + ".pgpass";
    std::ofstream(password_path) << "s3cret\n";
    write_config(postgresql_config("host=127.0.0.1", "password_file = " + password_path + "\n"));
    chmod(password_path.c_str(), 0644);
    const std::string error = load_error();
    chmod(password_path.c_str(), 0640);  // the group is root's: no other user
    const std::string error_group_root = load_error();
    chmod(password_path.c_str(), 0600);
    const std::string fine = load_error();
    std::remove(password_path.c_str());
    assert_true(error.find(password_path + ": ") == 0);
    assert_true(error.find("readable by other users (mode 0644)") != std::string::npos);
    assert_string_equal(error_group_root.c_str(), "");
    assert_string_equal(fine.c_str(), "");
}

// Files a [listen] or [remote] section names; each test writes its own beside the config.
std::string fleet_file(const char* suffix) {
    std::string path = g_path + suffix;
    std::ofstream(path) << "x\n";
    chmod(path.c_str(), 0600);
    return path;
}

void remove_fleet_files() {
    for (const char* suffix : {".crt", ".key", ".ca", ".hosts"})
        std::remove((g_path + suffix).c_str());
}

static void a_server_listens_for_agents(void**) {
    const std::string crt = fleet_file(".crt"), key = fleet_file(".key"), ca = fleet_file(".ca"),
                      hosts = fleet_file(".hosts");
    write_config("[listen]\naddress = 0.0.0.0:8446\ncertificate_file = " + crt +
                 "\nkey_file = " + key + "\nclient_ca_file = " + ca + "\nhosts_file = " + hosts +
                 "\ntexts_per_host_per_minute = 7\nlogins_per_host_per_minute = 70\n");
    auto s = load_settings(g_path, true);
    assert_string_equal(s.listen.address.c_str(), "0.0.0.0:8446");
    assert_string_equal(s.listen.key_file.c_str(), key.c_str());
    assert_string_equal(s.listen.hosts_file.c_str(), hosts.c_str());
    assert_int_equal(s.listen.texts_per_host_per_minute, 7);
    assert_int_equal(s.listen.logins_per_host_per_minute, 70);
    assert_false(s.is_agent());

    // Without the client CA no agent could be checked: refused, on the address's line.
    write_config("[listen]\naddress = [::1]:8446\ncertificate_file = " + crt +
                 "\nhosts_file = " + hosts + "\n");
    assert_true(load_error().find(":2: [listen] address needs client_ca_file") !=
                std::string::npos);
    write_config("[listen]\naddress = 8446\n");
    assert_true(load_error().find(":2: address must be HOST:PORT") != std::string::npos);
    write_config("[listen]\naddress = h:1\nhosts_file = " + g_path + ".missing\n");
    assert_true(load_error().find(":3: hosts_file " + g_path + ".missing: No such file") !=
                std::string::npos);
    write_config("[listen]\naddress = h:1\nlogins_per_host_per_minute = 0\n");
    assert_true(load_error().find("logins_per_host_per_minute must be a whole number") !=
                std::string::npos);
    // [remote] belongs to an agent.
    write_config("[remote]\nservers = a:1\n");
    assert_true(load_error().find(":2: [remote] is read only with [store] backend = remote") !=
                std::string::npos);
    remove_fleet_files();
}

static void an_agent_names_its_servers(void**) {
    const std::string crt = fleet_file(".crt"), key = fleet_file(".key"), ca = fleet_file(".ca");
    write_config(
        "[store]\nbackend = remote\n[remote]\nservers = tf1.example.org:8446, "
        "[2001:db8::1]:8446 ,10.0.0.2:9\nca_file = " +
        ca + "\ncertificate_file = " + crt + "\nkey_file = " + key +
        "\ntimeout = 4\nretry_after = 20\n");
    auto s = load_settings(g_path, true);
    assert_true(s.is_agent());
    assert_int_equal(s.remote.servers.size(), 3);
    assert_string_equal(s.remote.servers[1].c_str(), "[2001:db8::1]:8446");
    assert_string_equal(s.remote.ca_file.c_str(), ca.c_str());
    assert_int_equal(s.remote.timeout, 4);
    assert_int_equal(s.remote.retry_after, 20);

    write_config("[store]\nbackend = remote\n");
    assert_true(load_error().find(":2: backend = remote needs [remote] servers") !=
                std::string::npos);
    write_config("[store]\nbackend = remote\n[remote]\nservers = a:1, b\nca_file = " + ca + "\n");
    assert_true(load_error().find(":4: servers must list HOST:PORT") != std::string::npos);
    write_config("[store]\nbackend = remote\n[remote]\nservers = a:1\ncertificate_file = " + crt +
                 "\n");
    assert_true(load_error().find(":2: backend = remote needs [remote] ca_file") !=
                std::string::npos);
    remove_fleet_files();
}

static void an_agent_refuses_every_secret(void**) {
    const std::string agent = "[store]\nbackend = remote\n[remote]\nservers = a:1\n";
    const struct {
        std::string extra;
        const char* error;
    } cases[] = {
        {"[daemon]\ndatabase = /var/lib/twofactord/twofactord.db\n",
         ":6: an agent ([store] backend = remote) holds no database"},
        {"[daemon]\nsocket = /run/s\nkey_file = /etc/twofactord/key\n",
         ":7: an agent ([store] backend = remote) holds no data key"},
        {"[twilio]\naccount_sid = AC0123456789abcdef0123456789ABCDEF\n",
         ":6: an agent ([store] backend = remote) has no [twilio] section"},
        {"[postgresql]\n\nconninfo = host=db1\n",
         ":7: an agent ([store] backend = remote) has no [postgresql] section"},
        {"[listen]\naddress = 0.0.0.0:1\n",
         ":6: an agent ([store] backend = remote) has no [listen]"},
        // An empty section holds nothing, but says the file was written for a server.
        {"[twilio]\n", ": an agent ([store] backend = remote) has no [twilio] section"},
    };
    for (const auto& c : cases) {
        write_config(agent + c.extra);
        const std::string error = load_error();
        if (error.find(g_path + c.error) == std::string::npos) {
            std::fprintf(stderr, "config:\n%s%sgave: %s\n", agent.c_str(), c.extra.c_str(),
                         error.c_str());
            fail();
        }
    }
    // Refused before any secret file it names is read: this one does not exist.
    write_config(agent + "[twilio]\nauth_token_file = /nonexistent/token\n");
    assert_true(load_error().find("has no [twilio] section") != std::string::npos);
}

int main() {
    const CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(a_server_listens_for_agents, make_path, remove_path),
        cmocka_unit_test_setup_teardown(an_agent_names_its_servers, make_path, remove_path),
        cmocka_unit_test_setup_teardown(an_agent_refuses_every_secret, make_path, remove_path),
        cmocka_unit_test_setup_teardown(a_full_file_is_read, make_path, remove_path),
        cmocka_unit_test(a_missing_file_gives_defaults_unless_required),
        cmocka_unit_test_setup_teardown(errors_name_the_file_line_and_problem, make_path,
                                        remove_path),
        cmocka_unit_test_setup_teardown(the_token_may_come_from_a_file, make_path, remove_path),
        cmocka_unit_test_setup_teardown(malformed_sids_are_refused_with_file_and_line, make_path,
                                        remove_path),
        cmocka_unit_test_setup_teardown(an_api_key_secret_comes_from_a_file, make_path,
                                        remove_path),
        cmocka_unit_test_setup_teardown(edge_and_region_build_the_url, make_path, remove_path),
        cmocka_unit_test_setup_teardown(the_store_section_picks_a_backend, make_path, remove_path),
        cmocka_unit_test_setup_teardown(voice_needs_a_number_to_call_from, make_path, remove_path),
        cmocka_unit_test_setup_teardown(only_a_verified_connection_may_leave_the_machine, make_path,
                                        remove_path),
        cmocka_unit_test_setup_teardown(a_database_password_file_others_may_read_is_refused,
                                        make_path, remove_path),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
