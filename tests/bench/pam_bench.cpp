// SPDX-License-Identifier: BSD-2-Clause
// pam_bench: real PAM transactions (pam_start_confdir, pam_authenticate, pam_end) from several
// processes at once, and the figures: logins per second and latency percentiles.
//
//   pam_bench --confdir DIR --service NAME --users FILE --processes N [--logins N]
//             [--codes-dir DIR] [--time-limit SECONDS] [--ramp-ms MS] [--label TEXT]
//             [--csv FILE] [--require-success]
//
// The users file has one "NAME text NUMBER", "NAME totp HEXKEY" or "NAME none -" line per user
// (see bench_login.h). Login k is for user k modulo the number of users; worker w runs logins
// w, w + N, w + 2N... one after another. The workers are forked first and let go together, so
// forking is not timed; with --ramp-ms, worker w starts its first login w * MS / N ms after the
// others were let go, so that they do not all arrive at the same instant. Prints one JSON line
// (bench_report.h); with --require-success exits 1 if any login failed.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <new>
#include <stdexcept>
#include <string>
#include <vector>

#include "bench_accounts.h"
#include "bench_login.h"
#include "bench_report.h"

namespace twofactor::bench {
namespace {

constexpr int kMaxProcesses = 2048;
constexpr long long kMaxLogins = 10000000;

struct Options {
    LoginSetup setup;
    std::string users_file;
    int processes = 1;
    long long logins = -1;  // default: every user once
    int time_limit = 600;   // seconds after the start: no login starts later; 30 s on, kill
    int ramp_ms = 0;        // the workers' first logins spread over this many milliseconds
    std::string label = "run";
    std::string csv;
    bool require_success = false;
};

[[noreturn]] void usage(const char* why) {
    std::fprintf(stderr,
                 "pam_bench: %s\nusage: pam_bench --confdir DIR --service NAME --users FILE "
                 "--processes N [--logins N] [--codes-dir DIR] [--time-limit SECONDS] "
                 "[--ramp-ms MS] [--label TEXT] [--csv FILE] [--require-success]\n",
                 why);
    std::exit(2);
}

long long number(const char* text, long long low, long long high, const char* what) {
    char* end = nullptr;
    errno = 0;
    long long value = std::strtoll(text, &end, 10);
    if (errno != 0 || end == text || *end != '\0' || value < low || value > high)
        usage((std::string(what) + " must be a number from " + std::to_string(low) + " to " +
               std::to_string(high))
                  .c_str());
    return value;
}

Options parse(int argc, char** argv) {
    Options o;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        if (arg == "--require-success") {
            o.require_success = true;
            continue;
        }
        if (i + 1 >= argc) usage(("missing value after " + arg).c_str());
        const char* value = argv[++i];
        if (arg == "--confdir")
            o.setup.confdir = value;
        else if (arg == "--service")
            o.setup.service = value;
        else if (arg == "--codes-dir")
            o.setup.codes_dir = value;
        else if (arg == "--users")
            o.users_file = value;
        else if (arg == "--processes")
            o.processes = static_cast<int>(number(value, 1, kMaxProcesses, "--processes"));
        else if (arg == "--logins")
            o.logins = number(value, 1, kMaxLogins, "--logins");
        else if (arg == "--time-limit")
            o.time_limit = static_cast<int>(number(value, 1, 86400, "--time-limit"));
        else if (arg == "--ramp-ms")
            o.ramp_ms = static_cast<int>(number(value, 0, 60000, "--ramp-ms"));
        else if (arg == "--label")
            o.label = value;
        else if (arg == "--csv")
            o.csv = value;
        else
            usage(("unknown option " + arg).c_str());
    }
    if (o.setup.confdir.empty() || o.setup.service.empty() || o.users_file.empty())
        usage("--confdir, --service and --users are required");
    return o;
}

// Records in memory every worker writes to and the parent reads after they exit.
class SharedRecords {
public:
    explicit SharedRecords(std::size_t count) : count_(count) {
        bytes_ = count * sizeof(LoginRecord);
        void* memory =
            mmap(nullptr, bytes_, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        if (memory == MAP_FAILED) throw std::runtime_error("mmap of the records failed");
        records_ = static_cast<LoginRecord*>(memory);
        for (std::size_t i = 0; i < count; ++i) new (&records_[i]) LoginRecord();
    }
    ~SharedRecords() { munmap(records_, bytes_); }
    SharedRecords(const SharedRecords&) = delete;
    SharedRecords& operator=(const SharedRecords&) = delete;

    LoginRecord& operator[](std::size_t i) { return records_[i]; }
    std::vector<LoginRecord> copy() const { return {records_, records_ + count_}; }

private:
    std::size_t count_;
    std::size_t bytes_ = 0;
    LoginRecord* records_ = nullptr;
};

[[noreturn]] void worker(const Options& o, const std::vector<BenchUser>& users,
                         SharedRecords& records, std::size_t logins, int index, int ready_fd,
                         int go_fd) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    char byte = 'r';
    if (write(ready_fd, &byte, 1) != 1) _exit(3);
    close(ready_fd);
    // Blocks until the parent closes its end: every worker starts at the same moment.
    while (read(go_fd, &byte, 1) < 0 && errno == EINTR) {
    }
    close(go_fd);
    const std::int64_t stop_ns =
        monotonic_ns() + static_cast<std::int64_t>(o.time_limit) * 1000000000;
    if (o.ramp_ms > 0) usleep(static_cast<useconds_t>(o.ramp_ms) * 1000 * index / o.processes);
    for (std::size_t k = static_cast<std::size_t>(index); k < logins;
         k += static_cast<std::size_t>(o.processes)) {
        if (monotonic_ns() >= stop_ns) break;
        const std::size_t u = k % users.size();
        records[k].user_index = static_cast<std::int32_t>(u);
        run_login(o.setup, users[u], records[k]);
    }
    _exit(0);
}

void wait_for_ready(int ready_fd, int count) {
    int got = 0;
    const std::int64_t deadline = monotonic_ns() + 60LL * 1000000000;
    while (got < count) {
        pollfd p{ready_fd, POLLIN, 0};
        if (poll(&p, 1, 1000) < 0 && errno != EINTR) throw std::runtime_error("poll failed");
        char buffer[256];
        ssize_t n = read(ready_fd, buffer, sizeof(buffer));
        if (n > 0) got += static_cast<int>(n);
        if (n == 0) throw std::runtime_error("a worker exited before it was ready");
        if (monotonic_ns() > deadline) throw std::runtime_error("workers not ready within 60 s");
    }
}

// Waits for every worker; kills those still running `grace_ns` after the stop time.
void reap(std::vector<pid_t>& pids, std::int64_t kill_at_ns) {
    std::size_t left = pids.size();
    while (left > 0) {
        int status = 0;
        pid_t pid = waitpid(-1, &status, WNOHANG);
        if (pid > 0) {
            --left;
            continue;
        }
        if (pid < 0 && errno != EINTR) break;
        if (monotonic_ns() > kill_at_ns) {
            std::fprintf(stderr, "pam_bench: killing workers still running after the limit\n");
            for (pid_t p : pids) kill(p, SIGKILL);
            kill_at_ns = INT64_MAX;
        }
        usleep(2000);
    }
}

int run(const Options& o) {
    const std::vector<BenchUser> users = read_users(o.users_file);
    if (users.empty()) throw std::runtime_error(o.users_file + " lists no user");
    add_bench_accounts(users);
    const auto logins =
        static_cast<std::size_t>(o.logins > 0 ? o.logins : static_cast<long long>(users.size()));
    SharedRecords records(logins);

    int ready[2], go[2];
    if (pipe2(ready, O_CLOEXEC) != 0 || pipe2(go, O_CLOEXEC) != 0)
        throw std::runtime_error("pipe failed");
    std::fflush(nullptr);
    std::vector<pid_t> pids;
    for (int w = 0; w < o.processes; ++w) {
        pid_t pid = fork();
        if (pid < 0) {
            for (pid_t p : pids) kill(p, SIGKILL);
            throw std::runtime_error(std::string("fork failed: ") + std::strerror(errno));
        }
        if (pid == 0) {
            close(ready[0]);
            close(go[1]);
            worker(o, users, records, logins, w, ready[1], go[0]);
        }
        pids.push_back(pid);
    }
    close(ready[1]);
    close(go[0]);
    wait_for_ready(ready[0], o.processes);
    close(ready[0]);
    const std::int64_t released = monotonic_ns();
    close(go[1]);
    reap(pids, released + (static_cast<std::int64_t>(o.time_limit) + 30) * 1000000000);

    const std::vector<LoginRecord> done = records.copy();
    const RunReport report = summarize(o.label, o.processes, released, done, users);
    std::printf("%s\n", to_json(report).c_str());
    if (!o.csv.empty()) write_csv(o.csv, released, done, users);
    const bool all_succeeded = report.not_run == 0 && report.succeeded == report.logins;
    return o.require_success && !all_succeeded ? 1 : 0;
}

}  // namespace
}  // namespace twofactor::bench

int main(int argc, char** argv) {
    const auto options = twofactor::bench::parse(argc, argv);
    try {
        return twofactor::bench::run(options);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "pam_bench: %s\n", e.what());
        return 1;
    }
}
