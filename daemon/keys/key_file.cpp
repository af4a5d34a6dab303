// SPDX-License-Identifier: BSD-2-Clause
// The 256-bit database key: from a systemd credential or a key file, created once on first start.
// An existing key is never replaced: a new key would make every enrollment undecryptable.
#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <utility>

#include "common/credentials.h"
#include "daemon/keys/cipher.h"

namespace twofactor {
namespace {

// Far above any valid key file; keeps a wrong path (a log, a device) from being read whole.
constexpr std::size_t kMaxKeyFileBytes = 4096;
constexpr const char* kCredentialName = "twofactord.key";

[[noreturn]] void fail(const std::string& path, const std::string& problem) {
    throw KeyError("key file " + path + ": " + problem);
}

[[noreturn]] void fail_errno(const std::string& path, const std::string& doing) {
    fail(path, doing + std::strerror(errno));
}

class FileDescriptor {
public:
    explicit FileDescriptor(int fd) : fd_(fd) {}
    ~FileDescriptor() {
        if (fd_ >= 0) ::close(fd_);
    }
    FileDescriptor(const FileDescriptor&) = delete;
    FileDescriptor& operator=(const FileDescriptor&) = delete;
    int get() const { return fd_; }
    int release() { return std::exchange(fd_, -1); }

private:
    int fd_;
};

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// Holds the file's bytes and cleanses them whatever way the parse ends.
struct KeyFileBytes {
    std::string data;
    ~KeyFileBytes() { wipe(data); }
};

std::array<unsigned char, kKeyBytes> parse_key(const std::string& path, std::string_view data) {
    std::array<unsigned char, kKeyBytes> key{};
    if (data.size() == kKeyBytes) {
        std::copy(data.begin(), data.end(), key.begin());
        return key;
    }
    std::string_view hex = data;
    if (!hex.empty() && hex.back() == '\n') hex.remove_suffix(1);
    bool all_hex = hex.size() == 2 * kKeyBytes;
    for (std::size_t i = 0; all_hex && i < kKeyBytes; ++i) {
        int high = hex_value(hex[2 * i]);
        int low = hex_value(hex[2 * i + 1]);
        all_hex = high >= 0 && low >= 0;
        key[i] = static_cast<unsigned char>(all_hex ? high * 16 + low : 0);
    }
    if (all_hex) return key;
    OPENSSL_cleanse(key.data(), key.size());
    std::string problem =
        "expected 32 bytes or 64 hex digits, found " + std::to_string(data.size()) + " bytes";
    if (hex.size() == 2 * kKeyBytes) problem += " that are not all hex digits";
    fail(path, problem);
}

std::array<unsigned char, kKeyBytes> read_key(const std::string& path, bool check_mode) {
    FileDescriptor fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY));
    if (fd.get() < 0) fail_errno(path, "cannot open: ");
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) fail_errno(path, "cannot stat: ");
    if (!S_ISREG(st.st_mode)) fail(path, "not a regular file");
    // Another user who owns the key could replace it, and with it every secret's protection.
    if (check_mode && st.st_uid != 0 && st.st_uid != ::geteuid())
        fail(path, "owned by uid " + std::to_string(st.st_uid) +
                       ", not root or the daemon's user; chown it to root or the daemon's user");
    const unsigned mode = st.st_mode & 07777;
    if (check_mode && mode != 0600 && mode != 0400) {
        char octal[8];
        std::snprintf(octal, sizeof octal, "%04o", mode);
        fail(path, std::string("mode ") + octal +
                       ", must be 0600 or 0400 (readable by its owner only); chmod 600 it");
    }
    if (static_cast<std::size_t>(st.st_size) > kMaxKeyFileBytes)
        fail(path,
             "expected 32 bytes or 64 hex digits, found " + std::to_string(st.st_size) + " bytes");

    KeyFileBytes contents;
    contents.data.resize(kMaxKeyFileBytes + 1);
    std::size_t used = 0;
    // Bounded: each successful read advances `used`, which stops at the buffer's end.
    while (used < contents.data.size()) {
        ssize_t n = ::read(fd.get(), contents.data.data() + used, contents.data.size() - used);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) fail_errno(path, "cannot read: ");
        if (n == 0) break;
        used += static_cast<std::size_t>(n);
    }
    return parse_key(path, std::string_view(contents.data).substr(0, used));
}

bool exists(const std::string& path) {
    struct stat st {};
    // Anything but "no such file" counts as existing: reading it then reports the real problem,
    // and a file we cannot see is never replaced by a new key.
    return ::lstat(path.c_str(), &st) == 0 || errno != ENOENT;
}

void write_all(const std::string& path, int fd, const unsigned char* data, std::size_t size) {
    std::size_t done = 0;
    while (done < size) {
        ssize_t n = ::write(fd, data + done, size - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) fail_errno(path, "cannot write: ");
        done += static_cast<std::size_t>(n);
    }
}

// The new file's name must reach the disk too, or a crash could leave a key in use but lost.
void sync_parent_directory(const std::string& path) {
    auto slash = path.rfind('/');
    std::string dir = slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
    FileDescriptor fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (fd.get() < 0 || ::fsync(fd.get()) != 0) fail_errno(path, "cannot sync its directory: ");
}

}  // namespace

std::array<unsigned char, kKeyBytes> read_key_file(const std::string& path) {
    return read_key(path, true);
}

void create_key_file(const std::string& path) {
    FileDescriptor fd(
        ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
    if (fd.get() < 0) {
        if (errno == ENOENT) fail_errno(path, "cannot create (its directory must exist): ");
        fail_errno(path, "cannot create: ");
    }
    std::array<unsigned char, kKeyBytes> key{};
    try {
        // umask may have taken bits away; make the mode exactly 0600 whatever it was.
        if (::fchmod(fd.get(), 0600) != 0) fail_errno(path, "cannot chmod: ");
        if (RAND_bytes(key.data(), static_cast<int>(key.size())) != 1)
            fail(path, "the random generator failed");
        write_all(path, fd.get(), key.data(), key.size());
        OPENSSL_cleanse(key.data(), key.size());
        if (::fsync(fd.get()) != 0) fail_errno(path, "cannot sync: ");
        if (::close(fd.release()) != 0) fail_errno(path, "cannot close: ");
        sync_parent_directory(path);
    } catch (...) {
        OPENSSL_cleanse(key.data(), key.size());
        // O_EXCL made this file ours: remove the partial key so the next start does not trip on
        // it, and so no half-written key is ever used.
        ::unlink(path.c_str());
        throw;
    }
}

namespace {

// The key credential's path when systemd passed one, else empty.
std::string key_credential_path() {
    return twofactor::credential_path(kCredentialName).value_or("");
}

}  // namespace

bool key_exists(const std::string& key_file) {
    return !key_credential_path().empty() || (!key_file.empty() && exists(key_file));
}

std::string key_name(const std::string& key_file) {
    if (!key_credential_path().empty()) return std::string("credential ") + kCredentialName;
    return "key file " + key_file;
}

std::array<unsigned char, kKeyBytes> load_key(const std::string& key_file) {
    // systemd owns the credential and its mode (0400 on a private mount), so no mode check.
    if (auto credential = key_credential_path(); !credential.empty())
        return read_key(credential, false);
    if (key_file.empty())
        throw KeyError(
            "no encryption key: set key_file in [daemon] or pass the systemd credential " +
            std::string(kCredentialName));
    if (!exists(key_file)) create_key_file(key_file);
    return read_key_file(key_file);
}

}  // namespace twofactor
