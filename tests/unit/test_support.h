// SPDX-License-Identifier: BSD-2-Clause
// Helpers shared by the store tests: a private temporary directory, file bytes, and the message
// of an expected exception. Include it after every other header: it brings in cmocka.
#pragma once

#include <sys/stat.h>

#include <cstdlib>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <string_view>

// cmocka last: its fail() macro would clash with std::ios::fail(). Its 1.1 header leaves
// print_message()/print_error() without C linkage, hence the extern "C".
#include <csetjmp>
#include <cstdarg>
#include <cstddef>
#include <cstdint>
extern "C" {
#include <cmocka.h>
}

namespace twofactor::test {

// A fresh directory under /tmp, removed with everything in it when the object dies (teardown).
class TempDir {
public:
    TempDir() {
        std::string pattern = "/tmp/twofactor-store-test-XXXXXX";
        if (::mkdtemp(pattern.data()) == nullptr) fail_msg("mkdtemp failed");
        path_ = pattern;
    }
    ~TempDir() {
        std::error_code ignored;
        std::filesystem::remove_all(path_, ignored);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    std::string file(std::string_view name) const { return path_ + "/" + std::string(name); }
    const std::string& path() const { return path_; }

private:
    std::string path_;
};

inline std::string read_bytes(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) fail_msg("cannot read %s", path.c_str());
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

inline void write_bytes(const std::string& path, std::string_view bytes, mode_t mode) {
    {
        std::ofstream out(path, std::ios::binary | std::ios::trunc);
        out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
        if (!out) fail_msg("cannot write %s", path.c_str());
    }
    if (::chmod(path.c_str(), mode) != 0) fail_msg("cannot chmod %s", path.c_str());
}

inline mode_t file_mode(const std::string& path) {
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0) fail_msg("cannot stat %s", path.c_str());
    return st.st_mode & 07777;
}

inline bool file_exists(const std::string& path) {
    struct stat st {};
    return ::lstat(path.c_str(), &st) == 0;
}

inline bool contains(std::string_view haystack, std::string_view needle) {
    return haystack.find(needle) != std::string_view::npos;
}

// Runs f, which must throw E; returns E's message. Fails the test if nothing (or else) is thrown.
template <class E, class F>
std::string message_of(F&& f) {
    try {
        f();
    } catch (const E& e) {
        return e.what();
    } catch (const std::exception& e) {
        fail_msg("an unexpected exception was thrown: %s", e.what());
    }
    fail_msg("the expected exception was not thrown");
    return {};
}

}  // namespace twofactor::test
