// SPDX-License-Identifier: BSD-2-Clause
#include "daemon/log/log.h"

#include <systemd/sd-journal.h>
#include <unistd.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "daemon/log/log_budget.h"
#include "daemon/log/log_format.h"

namespace twofactor::log {
namespace {

bool g_journal = false;
bool g_debug = false;
thread_local std::string t_host;

}  // namespace

void init(bool debug) {
    g_debug = debug;
    g_journal = std::getenv("INVOCATION_ID") != nullptr && std::getenv("JOURNAL_STREAM") != nullptr;
}

void write(Level level, std::string_view message, std::span<const Field> fields) {
    if (level == Level::Debug && !g_debug) return;
    if (!scope_admits_line()) return;
    if (g_journal) {
        std::vector<std::string> parts = journal_fields(level, message, fields);
        if (!t_host.empty()) parts.push_back("HOST=" + escape(t_host));
        std::vector<iovec> iov;
        iov.reserve(parts.size());
        for (auto& p : parts) iov.push_back({p.data(), p.size()});
        if (sd_journal_sendv(iov.data(), static_cast<int>(iov.size())) >= 0) return;
    }
    std::string line = stderr_line(level, message, fields);
    if (!t_host.empty() && !line.empty() && line.back() == '\n')
        line.insert(line.size() - 1, " host=" + escape(t_host));
    // One write per line keeps concurrent lines whole.
    [[maybe_unused]] auto written = ::write(STDERR_FILENO, line.data(), line.size());
}

HostScope::HostScope(std::string_view host) : outer_(t_host) {
    if (!host.empty()) t_host = host;
}

HostScope::~HostScope() {
    t_host = outer_;
}

std::string host_in_scope() {
    return t_host;
}

}  // namespace twofactor::log
