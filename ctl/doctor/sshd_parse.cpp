// SPDX-License-Identifier: BSD-2-Clause
#include "ctl/doctor/sshd_parse.h"

#include <fcntl.h>
#include <glob.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>

namespace twofactor::ctl::doctor {

namespace {

constexpr int kMaxIncludeDepth = 16;  // sshd's own limit
constexpr auto kSshdTimeout = std::chrono::seconds(5);

// Old names sshd still takes for the keywords doctor looks at.
std::string canonical(std::string keyword) {
    keyword = lower(std::move(keyword));
    if (keyword == "challengeresponseauthentication") return "kbdinteractiveauthentication";
    return keyword;
}

class Reader {
public:
    Reader(const Tree& tree, Findings& findings) : tree_(tree), findings_(findings) {}

    void read(const std::string& path, bool on_host, SshdConfig& config, int depth,
              const std::string& from, int from_line) {
        if (depth > kMaxIncludeDepth) {
            findings_.add(Severity::Warning, "sshd-config",
                          "Include nests deeper than sshd allows (a loop?) at " + path, from,
                          from_line, "remove the Include that closes the loop");
            return;
        }
        TextFile text;
        std::string error;
        const Tree host("");
        const ReadResult result = (on_host ? host : tree_).read(path, text, error);
        if (result == ReadResult::Failed)
            findings_.add(Severity::Warning, "sshd-config", "cannot read " + path + ": " + error,
                          from.empty() ? path : from, from.empty() ? 0 : from_line,
                          "make it readable by root");
        if (result != ReadResult::Ok) return;
        for (std::size_t i = 0; i < text.lines.size(); ++i)
            read_line(path, static_cast<int>(i) + 1, text.lines[i], on_host, config, depth);
    }

private:
    void read_line(const std::string& path, int line, std::string text, bool on_host,
                   SshdConfig& config, int depth) {
        if (auto hash = text.find('#'); hash != std::string::npos) text.erase(hash);
        text = trim(text);
        if (text.empty()) return;
        // "Keyword value" or "Keyword=value".
        std::size_t split = text.find_first_of(" \t=");
        std::string keyword = canonical(text.substr(0, split));
        std::string value = split == std::string::npos ? "" : trim(text.substr(split + 1));
        if (!value.empty() && value.front() == '=') value = trim(value.substr(1));
        if (keyword == "match") {
            config.matches.push_back({value, path, line, {}});
            in_match_ = lower(value) != "all";
            if (!in_match_) config.matches.pop_back();
            return;
        }
        if (keyword == "include") {
            for (const auto& word : split_words(value))
                include(word, on_host, config, depth, path, line);
            return;
        }
        SshdSettings& target = in_match_ ? config.matches.back().settings : config.global;
        target.emplace(keyword, SshdSetting{value, path, line});  // the first value wins
    }

    void include(const std::string& pattern, bool on_host, SshdConfig& config, int depth,
                 const std::string& from, int from_line) {
        const std::string in_tree = pattern.front() == '/' ? pattern : "/etc/ssh/" + pattern;
        const std::string host_pattern = on_host ? in_tree : tree_.host_path(in_tree);
        glob_t matches{};
        if (glob(host_pattern.c_str(), 0, nullptr, &matches) == 0) {
            const std::size_t prefix = on_host ? 0 : tree_.host_path("/").size() - 1;
            for (std::size_t i = 0; i < matches.gl_pathc; ++i)
                read(std::string(matches.gl_pathv[i]).substr(prefix), on_host, config, depth + 1,
                     from, from_line);
        }
        globfree(&matches);
    }

    const Tree& tree_;
    Findings& findings_;
    bool in_match_ = false;
};

std::string find_sshd() {
    const char* path = std::getenv("PATH");
    std::string dirs = path ? path : "/usr/sbin:/usr/bin:/sbin:/bin";
    std::size_t start = 0;
    while (start <= dirs.size()) {
        auto colon = dirs.find(':', start);
        std::string dir = dirs.substr(start, colon == std::string::npos ? colon : colon - start);
        if (!dir.empty() && access((dir + "/sshd").c_str(), X_OK) == 0) return dir + "/sshd";
        if (colon == std::string::npos) break;
        start = colon + 1;
    }
    return "";
}

}  // namespace

std::optional<SshdConfig> read_sshd_config(const Tree& tree, const std::string& path, bool on_host,
                                           Findings& findings) {
    struct stat st {};
    if (::stat((on_host ? path : tree.host_path(path)).c_str(), &st) != 0) return std::nullopt;
    SshdConfig config;
    config.file = path;
    Reader(tree, findings).read(path, on_host, config, 0, "", 0);
    return config;
}

std::optional<std::map<std::string, std::string>> run_sshd_t(const std::string& host_file,
                                                             std::string& error,
                                                             const std::string& connection) {
    const std::string sshd = find_sshd();
    if (sshd.empty()) {
        error = "sshd is not installed (not found in PATH)";
        return std::nullopt;
    }
    int out[2];
    if (pipe2(out, O_CLOEXEC) != 0) {
        error = "pipe failed";
        return std::nullopt;
    }
    pid_t pid = fork();
    if (pid < 0) {
        close(out[0]);
        close(out[1]);
        error = "fork failed";
        return std::nullopt;
    }
    if (pid == 0) {
        dup2(out[1], STDOUT_FILENO);
        dup2(out[1], STDERR_FILENO);
        int null = open("/dev/null", O_RDONLY);
        if (null >= 0) dup2(null, STDIN_FILENO);
        if (connection.empty())
            execl(sshd.c_str(), sshd.c_str(), "-T", "-f", host_file.c_str(),
                  static_cast<char*>(nullptr));
        else
            execl(sshd.c_str(), sshd.c_str(), "-T", "-f", host_file.c_str(), "-C",
                  connection.c_str(), static_cast<char*>(nullptr));
        _exit(127);
    }
    close(out[1]);
    std::string text;
    const auto deadline = std::chrono::steady_clock::now() + kSshdTimeout;
    bool timed_out = false;
    for (;;) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) {
            timed_out = true;
            break;
        }
        pollfd pfd{out[0], POLLIN, 0};
        int ready = poll(&pfd, 1, static_cast<int>(left.count()));
        if (ready < 0 && errno == EINTR) continue;
        if (ready <= 0) continue;
        char buffer[4096];
        ssize_t got = ::read(out[0], buffer, sizeof buffer);
        if (got < 0 && errno == EINTR) continue;
        if (got <= 0) break;
        if (text.size() < 1024 * 1024) text.append(buffer, static_cast<std::size_t>(got));
    }
    close(out[0]);
    if (timed_out) kill(pid, SIGKILL);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (timed_out || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        std::string first = text.substr(0, text.find('\n'));
        error = timed_out ? "sshd -T did not finish in 5 s" : "sshd -T failed: " + trim(first);
        return std::nullopt;
    }
    std::map<std::string, std::string> values;
    std::size_t start = 0;
    while (start < text.size()) {
        auto end = text.find('\n', start);
        std::string line = text.substr(start, end == std::string::npos ? end : end - start);
        auto space = line.find(' ');
        if (space != std::string::npos)
            values.emplace(lower(line.substr(0, space)), line.substr(space + 1));
        if (end == std::string::npos) break;
        start = end + 1;
    }
    return values;
}

}  // namespace twofactor::ctl::doctor
