// SPDX-License-Identifier: BSD-2-Clause
// The configuration reader: what it accepts, and a "PATH:LINE: why" for everything it refuses.
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <string>

#include "common/ini.h"

// cmocka last: its fail() macro would clash with std::ios::fail(). Its 1.1 header leaves
// print_message()/print_error() without C linkage, hence the extern "C".
#include <csetjmp>
#include <cstdarg>
#include <cstddef>
#include <cstdint>
extern "C" {
#include <cmocka.h>
}

using twofactor::ConfigError;
using twofactor::IniFile;

namespace {

std::string value_of(const IniFile& ini, const char* section, const char* key) {
    const auto value = ini.get(section, key);
    if (!value) {
        print_error("[%s] %s is missing\n", section, key);
        fail();
    }
    return value->value;
}

// Parses text that must be refused and checks the whole message.
void assert_error(std::string_view text, const char* expected) {
    try {
        IniFile::parse(text, "test.conf");
    } catch (const ConfigError& e) {
        if (std::string(e.what()) != expected) {
            print_error("got      \"%s\"\nexpected \"%s\"\n", e.what(), expected);
            fail();
        }
        return;
    }
    print_error("accepted, expected \"%s\"\n", expected);
    fail();
}

void test_parses_a_full_file(void**) {
    const IniFile ini = IniFile::parse(
        "# twofactord configuration\n"
        "; another comment style\n"
        "\n"
        "[daemon]\n"
        "socket = /run/twofactord/socket\n"
        "   database=/var/lib/twofactord/twofactord.db   \n"
        "\tkey_file\t=\t/etc/twofactord/key\t\n"
        "empty =\n"
        "  # an indented comment\n"
        "[ twilio ]\n"
        "api_url = https://example.test/?a=b&c=d\n"
        "account_sid = AC123\r\n"
        "[sms]\n"
        "message = \"Your code is {code} # do not share\"\n"
        "spaced = \"  padded  \"\n"
        "blank = \"\"\n"
        "inner = say \"hi\" = ok\n"
        "default_country_code = 1",
        "test.conf");
    assert_string_equal(ini.name().c_str(), "test.conf");
    assert_string_equal(value_of(ini, "daemon", "socket").c_str(), "/run/twofactord/socket");
    assert_string_equal(value_of(ini, "daemon", "database").c_str(),
                        "/var/lib/twofactord/twofactord.db");
    assert_string_equal(value_of(ini, "daemon", "key_file").c_str(), "/etc/twofactord/key");
    assert_string_equal(value_of(ini, "daemon", "empty").c_str(), "");
    assert_string_equal(value_of(ini, "twilio", "api_url").c_str(),
                        "https://example.test/?a=b&c=d");
    assert_string_equal(value_of(ini, "twilio", "account_sid").c_str(), "AC123");
    assert_string_equal(value_of(ini, "sms", "message").c_str(),
                        "Your code is {code} # do not share");
    assert_string_equal(value_of(ini, "sms", "spaced").c_str(), "  padded  ");
    assert_string_equal(value_of(ini, "sms", "blank").c_str(), "");
    assert_string_equal(value_of(ini, "sms", "inner").c_str(), "say \"hi\" = ok");
    assert_string_equal(value_of(ini, "sms", "default_country_code").c_str(), "1");

    assert_int_equal(ini.get("daemon", "socket")->line, 5);
    assert_int_equal(ini.get("sms", "default_country_code")->line, 18);
    assert_false(ini.get("daemon", "missing").has_value());
    assert_false(ini.get("missing", "socket").has_value());
    assert_int_equal(ini.sections().size(), 3);
    assert_int_equal(ini.sections().at("daemon").size(), 4);
}

void test_empty_sections_and_repeats(void**) {
    const IniFile ini = IniFile::parse("[a]\n[b]\nx = 1\n[a]\ny = 2\n[c]\nx = 3\n", "t");
    assert_int_equal(ini.sections().size(), 3);
    assert_string_equal(value_of(ini, "a", "y").c_str(), "2");
    assert_string_equal(value_of(ini, "b", "x").c_str(), "1");
    assert_string_equal(value_of(ini, "c", "x").c_str(), "3");
    assert_int_equal(IniFile::parse("", "t").sections().size(), 0);
}

void test_errors_name_file_and_line(void**) {
    assert_error("[daemon]\nsocket = /x\njust some words\n",
                 "test.conf:3: expected a [section], a key = value line or a comment starting "
                 "with # or ;");
    assert_error("# comment\nsocket = /x\n[daemon]\n",
                 "test.conf:2: the key \"socket\" comes before any [section]");
    assert_error("[daemon]\nsocket = /a\n\nsocket = /b\n",
                 "test.conf:4: the key \"socket\" is set twice in [daemon] (first on line 2)");
    assert_error("[daemon]\nx = 1\n[other]\n[daemon]\nx = 2\n",
                 "test.conf:5: the key \"x\" is set twice in [daemon] (first on line 2)");
    assert_error("[daemon]\n = value\n", "test.conf:2: the line has no key before '='");
    assert_error("[daemon\nsocket = /x\n", "test.conf:1: the section header has no closing ']'");
    assert_error("[]\n", "test.conf:1: the section name is empty");
    assert_error("[a]b]\n", "test.conf:1: the section name has a bracket in it");
    assert_error("[sms]\nmessage = \"unclosed\n",
                 "test.conf:2: the value opens a double quote but does not close it at the "
                 "line's end");
    assert_error("[sms]\nmessage = \"\n",
                 "test.conf:2: the value opens a double quote but does not close it at the "
                 "line's end");
    assert_error(std::string_view("[sms]\nmessage = a\0b\n", 18),
                 "test.conf:2: the line has a NUL byte in it");
}

// A refused line's value never appears in the message: it may be an auth token.
void test_errors_do_not_quote_values(void**) {
    std::string message;
    try {
        IniFile::parse("[twilio]\nauth_token topsecretvalue\n", "t");
    } catch (const ConfigError& e) {
        message = e.what();
    }
    assert_true(message.starts_with("t:2: "));
    assert_true(message.find("topsecretvalue") == std::string::npos);
}

void test_load_file(void**) {
    char path[] = "/tmp/unit_ini_XXXXXX";
    const int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    {
        std::ofstream out(path);
        out << "[daemon]\nsocket = /tmp/s\n";
    }
    const IniFile ini = IniFile::load(path);
    assert_string_equal(ini.name().c_str(), path);
    assert_string_equal(value_of(ini, "daemon", "socket").c_str(), "/tmp/s");
    {
        std::ofstream out(path, std::ios::trunc);
        out << "[daemon]\nsocket\n";
    }
    bool threw = false;
    try {
        IniFile::load(path);
    } catch (const ConfigError& e) {
        threw = true;
        assert_true(std::string(e.what()).starts_with(std::string(path) + ":2: "));
    }
    unlink(path);
    assert_true(threw);
}

void assert_load_error(const std::string& path, const std::string& expected) {
    try {
        IniFile::load(path);
    } catch (const ConfigError& e) {
        assert_string_equal(e.what(), expected.c_str());
        return;
    }
    fail();
}

void test_unreadable_files(void**) {
    assert_load_error("/nonexistent/twofactord.conf",
                      "/nonexistent/twofactord.conf: No such file or directory");
    assert_load_error("/tmp", "/tmp: Is a directory");
}

}  // namespace

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parses_a_full_file),
        cmocka_unit_test(test_empty_sections_and_repeats),
        cmocka_unit_test(test_errors_name_file_and_line),
        cmocka_unit_test(test_errors_do_not_quote_values),
        cmocka_unit_test(test_load_file),
        cmocka_unit_test(test_unreadable_files),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
