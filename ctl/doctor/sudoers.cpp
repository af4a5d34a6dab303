// SPDX-License-Identifier: BSD-2-Clause
// sudoers: rules that need no password (NOPASSWD), Defaults that switch authentication off
// (!authenticate), and a credential cache (timestamp_timeout) longer than the trust the module
// allows. Not sudo's whole grammar: tags and Defaults are found line by line, includes are
// followed, and a line that is none of the known shapes is a warning.
#include <algorithm>
#include <cctype>

#include "ctl/doctor/checks.h"

namespace twofactor::ctl::doctor {

namespace {

constexpr int kMaxIncludeDepth = 128;  // sudo's own limit

bool starts_with(const std::string& text, const std::string& prefix) {
    return text.compare(0, prefix.size(), prefix) == 0;
}

bool is_alias(const std::string& word) {
    return word == "User_Alias" || word == "Runas_Alias" || word == "Host_Alias" ||
           word == "Cmnd_Alias" || word == "Cmd_Alias";
}

// Drops a comment: '#' starts one unless a digit follows (#1000 is a uid).
std::string without_comment(const std::string& line) {
    for (std::size_t i = 0; i < line.size(); ++i)
        if (line[i] == '#' &&
            (i + 1 >= line.size() || !std::isdigit(static_cast<unsigned char>(line[i + 1]))))
            return line.substr(0, i);
    return line;
}

class SudoersReader {
public:
    SudoersReader(const Tree& tree, const DaemonConfig& daemon, Findings& findings)
        : tree_(tree), daemon_(daemon), findings_(findings) {}

    void read(const std::string& path, int depth, const std::string& from, int from_line) {
        if (depth > kMaxIncludeDepth ||
            std::find(open_.begin(), open_.end(), path) != open_.end()) {
            findings_.add(Severity::Warning, "sudoers-syntax",
                          path + " includes itself; sudo refuses to run", from, from_line,
                          "remove the include that closes the loop");
            return;
        }
        TextFile file;
        std::string error;
        const auto result = tree_.read(path, file, error);
        if (result == ReadResult::Failed)
            findings_.add(Severity::Warning, "sudoers-syntax", "cannot read " + path + ": " + error,
                          from.empty() ? path : from, from_line, "make it readable by root");
        if (result == ReadResult::Missing && !from.empty())
            findings_.add(Severity::Warning, "sudoers-syntax",
                          "included file " + path + " does not exist", from, from_line,
                          "create it, or remove the include");
        if (result != ReadResult::Ok) return;
        open_.push_back(path);
        std::string logical;
        int first_line = 0;
        for (std::size_t i = 0; i < file.lines.size(); ++i) {
            const std::string& raw = file.lines[i];
            if (logical.empty()) first_line = static_cast<int>(i) + 1;
            const std::string stripped = trim(raw);
            if (logical.empty() &&
                (starts_with(stripped, "#include") || starts_with(stripped, "@include"))) {
                include(path, first_line, stripped, depth);
                continue;
            }
            std::string text = without_comment(raw);
            if (!text.empty() && text.back() == '\\') {
                logical += text.substr(0, text.size() - 1) + " ";
                continue;
            }
            logical += text;
            statement(path, first_line, trim(logical));
            logical.clear();
        }
        if (!trim(logical).empty()) statement(path, first_line, trim(logical));
        open_.pop_back();
    }

private:
    void include(const std::string& path, int line, const std::string& text, int depth) {
        auto words = split_words(text);
        if (words.size() < 2) {
            findings_.add(Severity::Warning, "sudoers-syntax", "an include without a file", path,
                          line, "name the file");
            return;
        }
        std::string target = words[1];
        if (target.size() >= 2 && target.front() == '"' && target.back() == '"')
            target = target.substr(1, target.size() - 2);
        if (target.front() != '/') target = path.substr(0, path.rfind('/') + 1) + target;
        const bool directory = words[0].size() > 8 && words[0].substr(1) == "includedir";
        if (!directory) {
            read(target, depth + 1, path, line);
            return;
        }
        // sudo skips names that end in '~' or contain a '.' (editor and package leftovers).
        for (const auto& name : tree_.list(target))
            if (name.back() != '~' && name.find('.') == std::string::npos)
                read(target + "/" + name, depth + 1, path, line);
    }

    void statement(const std::string& path, int line, const std::string& text) {
        if (text.empty()) return;
        if (std::count(text.begin(), text.end(), '(') !=
            std::count(text.begin(), text.end(), ')')) {
            findings_.add(Severity::Warning, "sudoers-syntax",
                          "unbalanced parentheses: sudo refuses the whole sudoers", path, line,
                          "visudo -c -f " + path);
            return;
        }
        const auto words = split_words(text);
        if (starts_with(words[0], "Defaults")) {
            defaults(path, line, text.substr(words[0].size()));
            return;
        }
        if (is_alias(words[0])) return;
        if (text.find('=') == std::string::npos) {
            findings_.add(Severity::Warning, "sudoers-syntax",
                          "not a rule, Defaults, alias or include: sudo refuses the whole "
                          "sudoers",
                          path, line, "visudo -c -f " + path);
            return;
        }
        if (text.find("NOPASSWD:") != std::string::npos)
            findings_.add(Severity::Critical, "sudo-nopasswd",
                          "NOPASSWD: this rule runs commands as another user without a password "
                          "or a code",
                          path, line, "remove NOPASSWD: from the rule");
    }

    void defaults(const std::string& path, int line, std::string items) {
        // "Defaults:alice !authenticate, timestamp_timeout=30": the binding is the first word.
        items = trim(items);
        if (!items.empty() && std::string(":@!>").find(items.front()) != std::string::npos) {
            auto space = items.find_first_of(" \t");
            items = space == std::string::npos ? "" : items.substr(space);
        }
        std::size_t start = 0;
        while (start <= items.size()) {
            auto comma = items.find(',', start);
            std::string item =
                trim(items.substr(start, comma == std::string::npos ? comma : comma - start));
            item.erase(std::remove_if(item.begin(), item.end(),
                                      [](unsigned char c) { return std::isspace(c); }),
                       item.end());
            if (item == "!authenticate")
                findings_.add(Severity::Critical, "sudo-noauthenticate",
                              "Defaults !authenticate: sudo asks no password and no code", path,
                              line, "remove !authenticate");
            else if (starts_with(item, "timestamp_timeout="))
                timestamp(path, line, item.substr(18));
            if (comma == std::string::npos) break;
            start = comma + 1;
        }
    }

    void timestamp(const std::string& path, int line, const std::string& value) {
        double minutes = 0;
        try {
            minutes = std::stod(value);
        } catch (const std::exception&) {
            findings_.add(Severity::Warning, "sudoers-syntax",
                          "timestamp_timeout=" + value + " is not a number", path, line,
                          "visudo -c");
            return;
        }
        const double limit = static_cast<double>(daemon_.trust_max_seconds) / 60.0;
        if (minutes < 0 || minutes * 60 > static_cast<double>(daemon_.trust_max_seconds))
            findings_.add(
                Severity::Warning, "sudo-timestamp",
                "timestamp_timeout=" + value +
                    (minutes < 0 ? ": sudo never asks again in a terminal once asked"
                                 : " minutes: sudo skips the code longer than [trust] "
                                   "max_seconds (" +
                                       std::to_string(daemon_.trust_max_seconds) + " s) allows"),
                path, line,
                "timestamp_timeout=" + std::to_string(static_cast<long long>(limit)) +
                    " or less (the default is 15)");
    }

    const Tree& tree_;
    const DaemonConfig& daemon_;
    Findings& findings_;
    std::vector<std::string> open_;
};

}  // namespace

void check_sudoers(const Tree& tree, const DaemonConfig& daemon, Findings& findings) {
    SudoersReader(tree, daemon, findings).read("/etc/sudoers", 0, "", 0);
}

}  // namespace twofactor::ctl::doctor
