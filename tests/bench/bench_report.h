// SPDX-License-Identifier: BSD-2-Clause
// Turns the records of a run into the figures the benchmark reports: logins per second over the
// run's wall time, and latency percentiles (nearest rank) of whole logins and of the time from
// the start of pam_authenticate to the prompt.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "bench_login.h"

namespace twofactor::bench {

struct Percentiles {
    std::size_t count = 0;
    double p50 = 0, p90 = 0, p99 = 0, max = 0, mean = 0;  // milliseconds
};

// Nearest-rank percentiles of the values (nanoseconds), in milliseconds.
Percentiles percentiles(std::vector<std::int64_t> values_ns);

struct RunReport {
    std::string label;
    int processes = 0;
    std::size_t logins = 0;   // logins run (a time limit may stop workers before all)
    std::size_t not_run = 0;  // logins the time limit (or a dead worker) left out
    std::size_t succeeded = 0;
    double wall_seconds = 0;
    double logins_per_second = 0;  // successful logins / wall time
    Percentiles login_ms;          // pam_start to pam_end
    Percentiles prompt_ms;         // pam_authenticate to the first prompt (logins with a prompt)
    std::map<std::string, std::size_t> failures;  // PAM code name -> count
    std::vector<std::string> failure_samples;     // a few "user: PAM_X: message" lines
};

// `released_ns`: when the workers were let go (the run's start).
RunReport summarize(const std::string& label, int processes, std::int64_t released_ns,
                    const std::vector<LoginRecord>& records, const std::vector<BenchUser>& users);

// One JSON object on one line (the scripts parse it).
std::string to_json(const RunReport& report);

// Writes one CSV line per login: user,pam_status,login_ms,prompt_ms,started_ms (from the
// release), authenticate_unix (Unix seconds, to line up with the endpoint's records).
void write_csv(const std::string& path, std::int64_t released_ns,
               const std::vector<LoginRecord>& records, const std::vector<BenchUser>& users);

}  // namespace twofactor::bench
