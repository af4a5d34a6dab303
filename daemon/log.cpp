#include "daemon/log.h"

#include <systemd/sd-journal.h>
#include <unistd.h>

#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace twofactor::log {
namespace {

bool g_journal = false;
bool g_debug = false;

const char* level_name(Level level) {
    switch (level) {
        case Level::Error:
            return "error";
        case Level::Warning:
            return "warning";
        case Level::Notice:
            return "notice";
        case Level::Info:
            return "info";
        case Level::Debug:
            return "debug";
    }
    return "info";
}

std::string journal_field(std::string_view key, std::string_view value) {
    std::string out = "TWOFACTOR_";
    for (char c : key) {
        out += std::isalnum(static_cast<unsigned char>(c))
                   ? static_cast<char>(std::toupper(static_cast<unsigned char>(c)))
                   : '_';
    }
    out += '=';
    out += value;
    return out;
}

}  // namespace

void init(bool debug) {
    g_debug = debug;
    g_journal = std::getenv("INVOCATION_ID") != nullptr && std::getenv("JOURNAL_STREAM") != nullptr;
}

void write(Level level, std::string_view message, std::initializer_list<Field> fields) {
    if (level == Level::Debug && !g_debug) return;
    if (g_journal) {
        std::vector<std::string> parts;
        parts.push_back("MESSAGE=" + std::string(message));
        parts.push_back("PRIORITY=" + std::to_string(static_cast<int>(level)));
        parts.push_back("SYSLOG_IDENTIFIER=twofactord");
        for (const auto& [key, value] : fields) parts.push_back(journal_field(key, value));
        std::vector<iovec> iov;
        iov.reserve(parts.size());
        for (auto& p : parts) iov.push_back({p.data(), p.size()});
        if (sd_journal_sendv(iov.data(), static_cast<int>(iov.size())) >= 0) return;
    }
    std::string line = "twofactord: ";
    line += level_name(level);
    line += ": ";
    line += message;
    for (const auto& [key, value] : fields) {
        line += ' ';
        line += key;
        line += '=';
        line += value;
    }
    line += '\n';
    // One write per line keeps concurrent lines whole.
    [[maybe_unused]] auto written = ::write(STDERR_FILENO, line.data(), line.size());
}

}  // namespace twofactor::log
