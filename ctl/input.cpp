// SPDX-License-Identifier: BSD-2-Clause
#include "ctl/input.h"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <string>

#include "ctl/arguments.h"

namespace twofactor::ctl {

namespace {
constexpr std::size_t kMaxLine = 1024;
}

bool stdin_is_terminal() {
    return isatty(STDIN_FILENO) == 1;
}

std::optional<SecureString> read_stdin_line() {
    std::string line;
    line.reserve(kMaxLine + 1);  // no reallocation, so no unwiped copy left behind
    bool got_any = false;
    for (std::size_t count = 0; count <= kMaxLine + 1; ++count) {
        char c = 0;
        ssize_t n = read(STDIN_FILENO, &c, 1);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        got_any = true;
        if (c == '\n') break;
        if (line.size() == kMaxLine) {
            wipe(line);
            throw UsageError("a line of standard input is longer than 1024 bytes");
        }
        line.push_back(c);
    }
    if (!got_any) return std::nullopt;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    return SecureString(std::move(line));
}

std::optional<SecureString> ask(std::string_view prompt) {
    if (stdin_is_terminal()) {
        std::fwrite(prompt.data(), 1, prompt.size(), stderr);
        std::fflush(stderr);
    }
    return read_stdin_line();
}

SecureString option_or_stdin(std::string_view value, std::string_view option) {
    if (value != "-") return SecureString(value);
    auto line = read_stdin_line();
    if (!line || line->empty())
        throw UsageError("--" + std::string(option) + " - found no value on standard input");
    return std::move(*line);
}

}  // namespace twofactor::ctl
