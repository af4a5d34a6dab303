// SPDX-License-Identifier: BSD-2-Clause
// Key files: the accepted formats, the refused ones, creation and load_key's order of sources.
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cstdlib>
#include <string>

#include "daemon/keys/cipher.h"
#include "tests/unit/test_support.h"

using twofactor::create_key_file;
using twofactor::KeyError;
using twofactor::kKeyBytes;
using twofactor::load_key;
using twofactor::read_key_file;
using twofactor::test::contains;
using twofactor::test::file_exists;
using twofactor::test::file_mode;
using twofactor::test::message_of;
using twofactor::test::read_bytes;
using twofactor::test::TempDir;
using twofactor::test::write_bytes;

namespace {

using Key = std::array<unsigned char, kKeyBytes>;

// Bytes 0x00, 0x0a ('\n'), 0xff and the rest: a raw key may hold anything, newlines included.
std::string raw_key_bytes() {
    std::string raw(kKeyBytes, '\0');
    for (std::size_t i = 0; i < raw.size(); ++i) raw[i] = static_cast<char>((i * 37 + 10) & 0xff);
    return raw;
}

Key as_key(const std::string& raw) {
    Key key{};
    std::copy(raw.begin(), raw.end(), key.begin());
    return key;
}

std::string hex_of(const std::string& raw, bool upper) {
    const char* digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    std::string hex;
    for (unsigned char c : raw) {
        hex += digits[c >> 4];
        hex += digits[c & 15];
    }
    return hex;
}

int setup(void** state) {
    ::unsetenv("CREDENTIALS_DIRECTORY");
    *state = new TempDir();
    return 0;
}

int teardown(void** state) {
    delete static_cast<TempDir*>(*state);
    ::unsetenv("CREDENTIALS_DIRECTORY");
    return 0;
}

const TempDir& dir(void** state) {
    return *static_cast<TempDir*>(*state);
}

void reads_raw_key(void** state) {
    const std::string path = dir(state).file("raw.key");
    const std::string raw = raw_key_bytes();
    assert_true(contains(raw, "\n"));
    write_bytes(path, raw, 0600);
    assert_true(read_key_file(path) == as_key(raw));
    write_bytes(path, raw, 0400);
    assert_true(read_key_file(path) == as_key(raw));
}

void reads_hex_key(void** state) {
    const std::string path = dir(state).file("hex.key");
    const std::string raw = raw_key_bytes();
    for (const std::string& text :
         {hex_of(raw, false), hex_of(raw, false) + "\n", hex_of(raw, true) + "\n"}) {
        write_bytes(path, text, 0600);
        assert_true(read_key_file(path) == as_key(raw));
    }
}

void refuses_bad_length(void** state) {
    const std::string path = dir(state).file("bad.key");
    const std::string hex = hex_of(raw_key_bytes(), false);
    for (const std::string& text :
         {std::string(), std::string(31, 'k'), std::string(33, 'k'), raw_key_bytes() + "\n",
          hex.substr(0, 63), hex + "0", hex + "\r\n", hex + "\n\n", std::string(5000, 'k')}) {
        write_bytes(path, text, 0600);
        std::string message = message_of<KeyError>([&] { read_key_file(path); });
        assert_string_equal(message.c_str(),
                            ("key file " + path + ": expected 32 bytes or 64 hex digits, found " +
                             std::to_string(text.size()) + " bytes")
                                .c_str());
    }
    // 64 characters that are not all hex digits.
    std::string almost = hex;
    almost[40] = 'g';
    write_bytes(path, almost + "\n", 0600);
    std::string message = message_of<KeyError>([&] { read_key_file(path); });
    assert_true(contains(message, "expected 32 bytes or 64 hex digits, found 65 bytes"));
    assert_true(contains(message, "not all hex digits"));
}

void refuses_readable_by_others(void** state) {
    const std::string path = dir(state).file("open.key");
    for (mode_t mode : {0644, 0640, 0604, 0660, 0700, 0440}) {
        write_bytes(path, raw_key_bytes(), mode);
        std::string message = message_of<KeyError>([&] { read_key_file(path); });
        assert_true(contains(message, "key file " + path + ": mode 0"));
        assert_true(contains(message, "must be 0600 or 0400"));
    }
}

void reports_unreadable_file(void** state) {
    const std::string missing = dir(state).file("missing.key");
    std::string message = message_of<KeyError>([&] { read_key_file(missing); });
    assert_string_equal(
        message.c_str(),
        ("key file " + missing + ": cannot open: No such file or directory").c_str());
    message = message_of<KeyError>([&] { read_key_file(dir(state).path()); });
    assert_true(contains(message, "not a regular file"));
}

void create_makes_a_private_random_key(void** state) {
    const std::string path = dir(state).file("new.key");
    const std::string other = dir(state).file("other.key");
    mode_t old_umask = ::umask(0);  // a careless umask must not loosen the mode
    create_key_file(path);
    create_key_file(other);
    ::umask(old_umask);
    assert_int_equal(file_mode(path), 0600);
    const std::string bytes = read_bytes(path);
    assert_int_equal(bytes.size(), kKeyBytes);
    assert_true(read_key_file(path) == as_key(bytes));
    assert_true(read_bytes(other) != bytes);  // random, not a constant
}

void create_refuses_existing_file(void** state) {
    const std::string path = dir(state).file("exists.key");
    write_bytes(path, "not a key", 0600);
    std::string message = message_of<KeyError>([&] { create_key_file(path); });
    assert_true(contains(message, "key file " + path + ": cannot create: File exists"));
    assert_string_equal(read_bytes(path).c_str(), "not a key");

    // Nor through a symbolic link, dangling or not.
    const std::string link = dir(state).file("link.key");
    const std::string target = dir(state).file("target.key");
    assert_int_equal(::symlink(target.c_str(), link.c_str()), 0);
    message_of<KeyError>([&] { create_key_file(link); });
    assert_false(file_exists(target));

    message = message_of<KeyError>([&] { create_key_file(dir(state).file("no/such/dir.key")); });
    assert_true(contains(message, "its directory must exist"));
}

void load_key_creates_once_then_reads(void** state) {
    const std::string path = dir(state).file("daemon.key");
    assert_false(file_exists(path));
    const Key first = load_key(path);
    assert_true(file_exists(path));
    assert_int_equal(file_mode(path), 0600);
    const std::string bytes = read_bytes(path);
    assert_true(first == as_key(bytes));
    const Key second = load_key(path);
    assert_true(second == first);
    assert_true(read_bytes(path) == bytes);
}

void load_key_never_replaces_a_bad_key(void** state) {
    const std::string path = dir(state).file("bad.key");
    write_bytes(path, "short", 0600);
    std::string message = message_of<KeyError>([&] { load_key(path); });
    assert_true(contains(message, "found 5 bytes"));
    assert_string_equal(read_bytes(path).c_str(), "short");

    write_bytes(path, raw_key_bytes(), 0644);
    message_of<KeyError>([&] { load_key(path); });
    assert_true(read_bytes(path) == raw_key_bytes());

    message = message_of<KeyError>([&] { load_key(""); });
    assert_true(contains(message, "twofactord.key"));
}

void load_key_prefers_the_systemd_credential(void** state) {
    const std::string credentials = dir(state).file("credentials");
    assert_int_equal(::mkdir(credentials.c_str(), 0700), 0);
    const std::string key_file = dir(state).file("fallback.key");
    ::setenv("CREDENTIALS_DIRECTORY", credentials.c_str(), 1);

    // No credential in the directory: key_file is used (and created).
    const Key fallback = load_key(key_file);
    assert_true(file_exists(key_file));

    // The credential wins over key_file, and its mode is systemd's business.
    const std::string raw = raw_key_bytes();
    write_bytes(credentials + "/twofactord.key", hex_of(raw, false) + "\n", 0644);
    const Key from_credential = load_key(key_file);
    assert_true(from_credential == as_key(raw));
    assert_true(from_credential != fallback);

    // A malformed credential is an error, not a reason to fall back to key_file.
    write_bytes(credentials + "/twofactord.key", "bad", 0400);
    std::string message = message_of<KeyError>([&] { load_key(key_file); });
    assert_true(contains(message, credentials + "/twofactord.key"));
}

}  // namespace

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(reads_raw_key, setup, teardown),
        cmocka_unit_test_setup_teardown(reads_hex_key, setup, teardown),
        cmocka_unit_test_setup_teardown(refuses_bad_length, setup, teardown),
        cmocka_unit_test_setup_teardown(refuses_readable_by_others, setup, teardown),
        cmocka_unit_test_setup_teardown(reports_unreadable_file, setup, teardown),
        cmocka_unit_test_setup_teardown(create_makes_a_private_random_key, setup, teardown),
        cmocka_unit_test_setup_teardown(create_refuses_existing_file, setup, teardown),
        cmocka_unit_test_setup_teardown(load_key_creates_once_then_reads, setup, teardown),
        cmocka_unit_test_setup_teardown(load_key_never_replaces_a_bad_key, setup, teardown),
        cmocka_unit_test_setup_teardown(load_key_prefers_the_systemd_credential, setup, teardown),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
