// SPDX-License-Identifier: BSD-2-Clause
#include "ctl/doctor/findings.h"

#include <algorithm>

#include "ctl/output.h"

namespace twofactor::ctl::doctor {

namespace {

std::string where(const Finding& finding) {
    if (finding.file.empty()) return "-";
    if (finding.line <= 0) return finding.file;
    return finding.file + ":" + std::to_string(finding.line);
}

std::string padded(std::string text, std::size_t width) {
    if (text.size() < width) text.append(width - text.size(), ' ');
    return text + "  ";
}

// Critical first, then warnings, then notes; within a severity, in the order found.
std::vector<Finding> ordered(const Findings& findings) {
    std::vector<Finding> items = findings.all();
    std::stable_sort(items.begin(), items.end(), [](const Finding& a, const Finding& b) {
        return static_cast<int>(a.severity) < static_cast<int>(b.severity);
    });
    return items;
}

}  // namespace

void Findings::add(Severity severity, std::string check, std::string what, std::string file,
                   int line, std::string fix) {
    // The same problem reached from several services (common-auth) is reported once.
    for (const auto& f : items_)
        if (f.check == check && f.file == file && f.line == line && f.what == what) return;
    items_.push_back(
        {severity, std::move(check), std::move(what), std::move(file), line, std::move(fix)});
}

bool Findings::any_problem() const {
    return std::any_of(items_.begin(), items_.end(),
                       [](const Finding& f) { return f.severity != Severity::Note; });
}

const char* severity_name(Severity severity) {
    switch (severity) {
        case Severity::Critical:
            return "critical";
        case Severity::Warning:
            return "warning";
        case Severity::Note:
            return "note";
    }
    return "warning";
}

void print_table(const Findings& findings) {
    const auto items = ordered(findings);
    if (!findings.any_problem()) print_line("No way in without the second factor was found.");
    if (items.empty()) return;
    std::size_t check_width = 7, where_width = 5;
    for (const auto& f : items) {
        check_width = std::max(check_width, f.check.size());
        where_width = std::max(where_width, where(f).size());
    }
    const std::string indent(10 + check_width + 2 + where_width + 2, ' ');
    print_line(padded("SEVERITY", 8) + padded("FINDING", check_width) +
               padded("WHERE", where_width) + "WHAT / FIX");
    for (const auto& f : items) {
        print_line(padded(severity_name(f.severity), 8) + padded(f.check, check_width) +
                   padded(where(f), where_width) + f.what);
        if (!f.fix.empty()) print_line(indent + "fix: " + f.fix);
    }
}

void print_json_report(const Findings& findings) {
    json list = json::array();
    std::size_t critical = 0, warnings = 0, notes = 0;
    for (const auto& f : ordered(findings)) {
        list.push_back({{"severity", severity_name(f.severity)},
                        {"finding", f.check},
                        {"what", f.what},
                        {"file", f.file},
                        {"line", f.line},
                        {"fix", f.fix}});
        if (f.severity == Severity::Critical) ++critical;
        if (f.severity == Severity::Warning) ++warnings;
        if (f.severity == Severity::Note) ++notes;
    }
    print_json(
        {{"findings", list}, {"critical", critical}, {"warnings", warnings}, {"notes", notes}});
}

}  // namespace twofactor::ctl::doctor
