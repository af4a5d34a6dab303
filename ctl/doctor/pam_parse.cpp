// SPDX-License-Identifier: BSD-2-Clause
#include "ctl/doctor/pam_parse.h"

#include <algorithm>

namespace twofactor::ctl::doctor {

namespace {

// libpam gives up on deeper nesting too.
constexpr int kMaxDepth = 32;
constexpr std::size_t kMaxEntries = 10000;

struct PamLine {
    int line = 0;
    std::vector<std::string> words;
};

// Joins backslash continuations and drops comments; keeps the number of each logical line's
// first physical line.
std::vector<PamLine> logical_lines(const TextFile& file) {
    std::vector<PamLine> result;
    std::string pending;
    int pending_line = 0;
    for (std::size_t i = 0; i < file.lines.size(); ++i) {
        std::string text = file.lines[i];
        if (auto hash = text.find('#'); hash != std::string::npos) text.erase(hash);
        if (pending.empty()) pending_line = static_cast<int>(i) + 1;
        if (!text.empty() && text.back() == '\\') {
            text.pop_back();
            pending += text + " ";
            continue;
        }
        pending += text;
        auto words = split_words(pending);
        if (!words.empty()) result.push_back({pending_line, std::move(words)});
        pending.clear();
    }
    if (auto words = split_words(pending); !words.empty())
        result.push_back({pending_line, std::move(words)});
    return result;
}

std::map<std::string, std::string> actions_of_control(const std::string& control) {
    if (control == "required")
        return {{"success", "ok"},
                {"new_authtok_reqd", "ok"},
                {"ignore", "ignore"},
                {"default", "bad"}};
    if (control == "requisite")
        return {{"success", "ok"},
                {"new_authtok_reqd", "ok"},
                {"ignore", "ignore"},
                {"default", "die"}};
    if (control == "sufficient")
        return {{"success", "done"}, {"new_authtok_reqd", "done"}, {"default", "ignore"}};
    if (control == "optional")
        return {{"success", "ok"}, {"new_authtok_reqd", "ok"}, {"default", "ignore"}};
    std::map<std::string, std::string> actions;
    if (control.size() < 2 || control.front() != '[') return {{"default", "bad"}};
    for (const auto& item : split_words(control.substr(1, control.size() - 2))) {
        auto eq = item.find('=');
        if (eq == std::string::npos) continue;
        actions[lower(item.substr(0, eq))] = lower(item.substr(eq + 1));
    }
    // libpam treats a value with no action, and no default, as "bad".
    if (actions.find("default") == actions.end()) actions["default"] = "bad";
    return actions;
}

std::string base_name(const std::string& path) {
    auto slash = path.rfind('/');
    return slash == std::string::npos ? path : path.substr(slash + 1);
}

class StackReader {
public:
    StackReader(const Tree& tree, Findings& findings) : tree_(tree), findings_(findings) {}

    void read(const std::string& file, PamStack& stack, int depth,
              std::vector<std::string>& open_files, const std::string& from, int from_line) {
        if (depth > kMaxDepth ||
            std::find(open_files.begin(), open_files.end(), file) != open_files.end()) {
            refuse_stack("pam-include-loop",
                         file + " includes itself (through " + from + "); libpam refuses the stack",
                         from, from_line, "remove the include that closes the loop");
            return;
        }
        TextFile text;
        std::string error;
        switch (tree_.read(file, text, error)) {
            case ReadResult::Missing:
                if (!from.empty())
                    refuse_stack("pam-unreadable", "included file " + file + " does not exist",
                                 from, from_line, "create it, or remove the include");
                return;
            case ReadResult::Failed:
                refuse_stack("pam-unreadable", "cannot read " + file + ": " + error,
                             from.empty() ? file : from, from.empty() ? 0 : from_line,
                             "make the file readable by root");
                return;
            case ReadResult::Ok:
                break;
        }
        open_files.push_back(file);
        for (const auto& pam_line : logical_lines(text)) {
            if (stack.entries.size() >= kMaxEntries) break;
            read_line(file, pam_line, stack, depth, open_files);
        }
        open_files.pop_back();
    }

private:
    void read_line(const std::string& file, const PamLine& pam_line, PamStack& stack, int depth,
                   std::vector<std::string>& open_files) {
        const auto& words = pam_line.words;
        if (words[0] == "@include") {
            if (file == stack.service_file && stack.first_auth_line == 0)
                stack.first_auth_line = pam_line.line;
            if (words.size() >= 2)
                read(include_path(words[1]), stack, depth + 1, open_files, file, pam_line.line);
            return;
        }
        std::string type = lower(words[0]);
        if (!type.empty() && type.front() == '-') type.erase(0, 1);
        if (type != "auth") return;
        if (file == stack.service_file && stack.first_auth_line == 0)
            stack.first_auth_line = pam_line.line;
        // The control: one word, or a bracket that may span words.
        std::size_t next = 1;
        std::string control;
        if (next < words.size() && words[next].front() == '[') {
            while (next < words.size()) {
                control += (control.empty() ? "" : " ") + words[next];
                if (words[next++].back() == ']') break;
            }
        } else if (next < words.size()) {
            control = lower(words[next++]);
        }
        if (next >= words.size()) {
            refuse_stack("pam-syntax", "an auth line without a module; libpam refuses the stack",
                         file, pam_line.line, "complete or remove the line");
            return;
        }
        const std::string& target = words[next];
        if (control == "include" || control == "substack") {
            const std::size_t begin = stack.entries.size();
            read(include_path(target), stack, depth + 1, open_files, file, pam_line.line);
            if (control == "substack")
                for (std::size_t i = begin; i < stack.entries.size(); ++i)
                    if (stack.entries[i].frame_end == kOutermost)
                        stack.entries[i].frame_end = stack.entries.size();
            return;
        }
        PamEntry entry;
        entry.actions = actions_of_control(control);
        entry.control = control;
        entry.module = base_name(target);
        entry.arguments.assign(words.begin() + static_cast<long>(next) + 1, words.end());
        entry.file = file;
        entry.line = pam_line.line;
        entry.frame_end = kOutermost;
        stack.entries.push_back(std::move(entry));
    }

    std::string include_path(const std::string& name) const {
        if (!name.empty() && name.front() == '/') return name;
        return pam_service_file(tree_, name).empty() ? "/etc/pam.d/" + name
                                                     : pam_service_file(tree_, name);
    }

    // A problem that makes libpam refuse the whole stack (every login through it fails).
    void refuse_stack(const std::string& check, const std::string& what, const std::string& file,
                      int line, const std::string& fix) {
        findings_.add(Severity::Warning, check, what, file, line, fix);
        refused = true;
    }

public:
    bool refused = false;
    static constexpr std::size_t kOutermost = static_cast<std::size_t>(-1);

private:
    const Tree& tree_;
    Findings& findings_;
};

}  // namespace

std::string PamEntry::action_for(const std::string& value) const {
    auto it = actions.find(value);
    if (it != actions.end()) return it->second;
    return actions.at("default");
}

std::string pam_service_file(const Tree& tree, const std::string& name) {
    for (const char* directory : {"/etc/pam.d/", "/usr/lib/pam.d/"})
        if (tree.exists(directory + name)) return directory + name;
    return "";
}

PamStack read_auth_stack(const Tree& tree, const std::string& service, Findings& findings) {
    PamStack stack;
    stack.service_file = pam_service_file(tree, service);
    if (stack.service_file.empty()) return stack;
    StackReader reader(tree, findings);
    std::vector<std::string> open_files;
    reader.read(stack.service_file, stack, 0, open_files, "", 0);
    stack.refused = reader.refused;
    for (auto& entry : stack.entries)
        if (entry.frame_end == StackReader::kOutermost) entry.frame_end = stack.entries.size();
    return stack;
}

}  // namespace twofactor::ctl::doctor
