// SPDX-License-Identifier: BSD-2-Clause
#include "ctl/doctor/tree.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>

namespace twofactor::ctl::doctor {

namespace {

// Configuration files are small; anything larger is not one.
constexpr off_t kMaxFileBytes = 4 * 1024 * 1024;

}  // namespace

Tree::Tree(std::string root) : root_(std::move(root)) {
    while (!root_.empty() && root_.back() == '/') root_.pop_back();
}

std::string Tree::host_path(const std::string& path) const {
    if (path.empty() || path.front() != '/') return path;
    return root_ + path;
}

ReadResult Tree::read(const std::string& path, TextFile& out, std::string& error) const {
    out.path = path;
    out.lines.clear();
    const std::string real = host_path(path);
    // O_NONBLOCK: opening a FIFO must not wait for a writer.
    int fd = ::open(real.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (fd < 0) {
        if (errno == ENOENT || errno == ENOTDIR) return ReadResult::Missing;
        error = std::strerror(errno);
        return ReadResult::Failed;
    }
    struct stat st {};
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        error = "not a regular file";
        ::close(fd);
        return ReadResult::Failed;
    }
    if (st.st_size > kMaxFileBytes) {
        error = "larger than 4 MiB";
        ::close(fd);
        return ReadResult::Failed;
    }
    std::string text;
    char buffer[8192];
    for (;;) {
        ssize_t got = ::read(fd, buffer, sizeof buffer);
        if (got < 0 && errno == EINTR) continue;
        if (got < 0) {
            error = std::strerror(errno);
            ::close(fd);
            return ReadResult::Failed;
        }
        if (got == 0) break;
        text.append(buffer, static_cast<std::size_t>(got));
        if (text.size() > static_cast<std::size_t>(kMaxFileBytes)) {
            error = "larger than 4 MiB";
            ::close(fd);
            return ReadResult::Failed;
        }
    }
    ::close(fd);
    std::size_t start = 0;
    while (start < text.size()) {
        std::size_t end = text.find('\n', start);
        if (end == std::string::npos) end = text.size();
        std::string line = text.substr(start, end - start);
        if (!line.empty() && line.back() == '\r') line.pop_back();
        out.lines.push_back(std::move(line));
        start = end + 1;
    }
    return ReadResult::Ok;
}

bool Tree::read_or_report(const std::string& path, TextFile& out, Findings& findings,
                          const std::string& check) const {
    std::string error;
    switch (read(path, out, error)) {
        case ReadResult::Ok:
            return true;
        case ReadResult::Missing:
            return false;
        case ReadResult::Failed:
            findings.add(Severity::Warning, check, "cannot read " + path + ": " + error, path, 0,
                         "make the file readable by root, or remove it");
            return false;
    }
    return false;
}

std::vector<std::string> Tree::list(const std::string& directory) const {
    std::vector<std::string> names;
    DIR* dir = ::opendir(host_path(directory).c_str());
    if (dir == nullptr) return names;
    while (dirent* entry = ::readdir(dir)) {
        std::string name = entry->d_name;
        if (name == "." || name == "..") continue;
        struct stat st {};
        if (::stat((host_path(directory) + "/" + name).c_str(), &st) == 0 && S_ISDIR(st.st_mode))
            continue;
        names.push_back(std::move(name));
        if (names.size() > 100000) break;  // a directory no configuration has
    }
    ::closedir(dir);
    std::sort(names.begin(), names.end());
    return names;
}

bool Tree::exists(const std::string& path) const {
    struct stat st {};
    return ::lstat(host_path(path).c_str(), &st) == 0;
}

std::vector<std::string> split_words(const std::string& line) {
    std::vector<std::string> words;
    std::size_t i = 0;
    while (i < line.size()) {
        while (i < line.size() && std::isspace(static_cast<unsigned char>(line[i]))) ++i;
        std::size_t start = i;
        while (i < line.size() && !std::isspace(static_cast<unsigned char>(line[i]))) ++i;
        if (i > start) words.push_back(line.substr(start, i - start));
    }
    return words;
}

std::string trim(const std::string& text) {
    std::size_t start = 0, end = text.size();
    while (start < end && std::isspace(static_cast<unsigned char>(text[start]))) ++start;
    while (end > start && std::isspace(static_cast<unsigned char>(text[end - 1]))) --end;
    return text.substr(start, end - start);
}

std::string lower(std::string text) {
    for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return text;
}

}  // namespace twofactor::ctl::doctor
