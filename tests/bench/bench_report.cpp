// SPDX-License-Identifier: BSD-2-Clause
#include "bench_report.h"

#include <security/pam_appl.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <numeric>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "pam/outcomes.h"

namespace twofactor::bench {
namespace {

double to_ms(std::int64_t ns) {
    return static_cast<double>(ns) / 1e6;
}

double rounded(double value) {
    return std::round(value * 100.0) / 100.0;
}

nlohmann::json percentiles_json(const Percentiles& p) {
    return {{"count", p.count},      {"p50", rounded(p.p50)}, {"p90", rounded(p.p90)},
            {"p99", rounded(p.p99)}, {"max", rounded(p.max)}, {"mean", rounded(p.mean)}};
}

}  // namespace

Percentiles percentiles(std::vector<std::int64_t> values_ns) {
    Percentiles p;
    p.count = values_ns.size();
    if (values_ns.empty()) return p;
    std::sort(values_ns.begin(), values_ns.end());
    auto rank = [&](double q) {
        // Nearest rank: the smallest value with at least q of the values at or below it.
        auto index = static_cast<std::size_t>(std::ceil(q * static_cast<double>(p.count)));
        return to_ms(values_ns[std::clamp<std::size_t>(index, 1, p.count) - 1]);
    };
    p.p50 = rank(0.50);
    p.p90 = rank(0.90);
    p.p99 = rank(0.99);
    p.max = to_ms(values_ns.back());
    long double sum = std::accumulate(values_ns.begin(), values_ns.end(), 0.0L);
    p.mean = to_ms(static_cast<std::int64_t>(sum / static_cast<long double>(p.count)));
    return p;
}

RunReport summarize(const std::string& label, int processes, std::int64_t released_ns,
                    const std::vector<LoginRecord>& records, const std::vector<BenchUser>& users) {
    RunReport report;
    report.label = label;
    report.processes = processes;
    std::vector<std::int64_t> login_ns, prompt_ns;
    std::int64_t last_end = released_ns;
    for (const LoginRecord& r : records) {
        const std::string user =
            r.user_index >= 0 ? users[static_cast<std::size_t>(r.user_index)].name : "?";
        if (!r.done) {
            report.not_run += 1;
            continue;
        }
        report.logins += 1;
        last_end = std::max(last_end, r.ended_ns);
        login_ns.push_back(r.ended_ns - r.started_ns);
        if (r.prompt_ns != 0) prompt_ns.push_back(r.prompt_ns - r.authenticate_ns);
        if (r.pam_status == PAM_SUCCESS) {
            report.succeeded += 1;
            continue;
        }
        const std::string name = twofactor::pam::pam_code_name(r.pam_status);
        report.failures[name] += 1;
        if (report.failure_samples.size() < 5)
            report.failure_samples.push_back(user + ": " + name + ": " + r.last_message);
    }
    report.wall_seconds = static_cast<double>(last_end - released_ns) / 1e9;
    if (report.wall_seconds > 0)
        report.logins_per_second = static_cast<double>(report.succeeded) / report.wall_seconds;
    report.login_ms = percentiles(std::move(login_ns));
    report.prompt_ms = percentiles(std::move(prompt_ns));
    return report;
}

std::string to_json(const RunReport& report) {
    nlohmann::json out = {{"label", report.label},
                          {"processes", report.processes},
                          {"logins", report.logins},
                          {"not_run", report.not_run},
                          {"succeeded", report.succeeded},
                          {"failed", report.logins - report.succeeded},
                          {"wall_seconds", rounded(report.wall_seconds * 1000.0) / 1000.0},
                          {"logins_per_second", rounded(report.logins_per_second)},
                          {"login_ms", percentiles_json(report.login_ms)},
                          {"prompt_ms", percentiles_json(report.prompt_ms)},
                          {"failures", report.failures},
                          {"failure_samples", report.failure_samples}};
    return out.dump();
}

void write_csv(const std::string& path, std::int64_t released_ns,
               const std::vector<LoginRecord>& records, const std::vector<BenchUser>& users) {
    std::ofstream out(path);
    if (!out) throw std::runtime_error("cannot write " + path);
    out << "user,pam_status,login_ms,prompt_ms,started_ms,authenticate_unix\n";
    char line[256];
    for (const LoginRecord& r : records) {
        if (!r.done || r.user_index < 0) continue;
        std::snprintf(line, sizeof(line), "%s,%d,%.3f,%.3f,%.3f,%.6f\n",
                      users[static_cast<std::size_t>(r.user_index)].name.c_str(), r.pam_status,
                      to_ms(r.ended_ns - r.started_ns),
                      r.prompt_ns != 0 ? to_ms(r.prompt_ns - r.authenticate_ns) : 0.0,
                      to_ms(r.started_ns - released_ns),
                      static_cast<double>(r.authenticate_unix_us) / 1e6);
        out << line;
    }
}

}  // namespace twofactor::bench
