// SPDX-License-Identifier: BSD-2-Clause
// What `twofactorctl doctor` reports: one finding per way in that skips the second factor (or
// weakens it, or could not be checked), with where it comes from and how to fix it.
#pragma once

#include <string>
#include <vector>

namespace twofactor::ctl::doctor {

enum class Severity {
    Critical,  // a way in without the second factor
    Warning,   // the factor is weakened, or something could not be checked
    Note,      // for the record (how a check was done); does not make the exit status 1
};

struct Finding {
    Severity severity = Severity::Warning;
    std::string check;  // a stable name, documented in twofactorctl(1): "sshd-pubkey-alone"
    std::string what;   // one sentence for the administrator
    std::string file;   // where it comes from (a path as seen inside --root), or empty
    int line = 0;       // 0 when the whole file (or no file) is meant
    std::string fix;
};

class Findings {
public:
    void add(Severity severity, std::string check, std::string what, std::string file, int line,
             std::string fix);
    const std::vector<Finding>& all() const { return items_; }
    // Whether anything but notes was found.
    bool any_problem() const;

private:
    std::vector<Finding> items_;
};

const char* severity_name(Severity severity);

// The report on stdout: a table, or one JSON object.
void print_table(const Findings& findings);
void print_json_report(const Findings& findings);

}  // namespace twofactor::ctl::doctor
