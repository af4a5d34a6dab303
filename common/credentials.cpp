// SPDX-License-Identifier: BSD-2-Clause
#include "common/credentials.h"

#include <sys/stat.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

namespace twofactor {

std::optional<std::string> credential_path(std::string_view name) {
    const char* dir = std::getenv("CREDENTIALS_DIRECTORY");
    if (dir == nullptr || *dir == '\0') return std::nullopt;
    std::string path = std::string(dir) + "/" + std::string(name);
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) return std::nullopt;
    return path;
}

std::optional<std::string> given_credential_path(std::string_view name) {
    auto path = credential_path(name);
    if (!path) return std::nullopt;
    const auto text = read_secret_text(*path);
    // Unreadable: the caller's reading names the file and the error.
    if (text && text->empty()) return std::nullopt;
    return path;
}

std::optional<std::string> read_secret_text(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return std::nullopt;
    std::ostringstream content;
    content << in.rdbuf();
    std::string value = content.str();
    while (!value.empty() && (value.back() == '\n' || value.back() == '\r' || value.back() == ' '))
        value.pop_back();
    return value;
}

}  // namespace twofactor
