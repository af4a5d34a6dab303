// SPDX-License-Identifier: BSD-2-Clause
// sshd: whether PAM runs at all, whether a public key logs in alone, whether keyboard-interactive
// (the method that carries the code prompt) is on, whether root gets in on a key alone, and
// Match blocks that undo any of it.
#include <map>

#include "ctl/doctor/checks.h"
#include "ctl/doctor/sshd_parse.h"

namespace twofactor::ctl::doctor {

namespace {

// OpenSSH's compiled-in defaults for the keywords checked (Debian's sshd_config sets UsePAM yes
// and KbdInteractiveAuthentication no explicitly).
const std::map<std::string, std::string>& defaults() {
    static const std::map<std::string, std::string> values = {
        {"usepam", "no"},
        {"pubkeyauthentication", "yes"},
        {"kbdinteractiveauthentication", "yes"},
        {"authenticationmethods", "any"},
        {"permitrootlogin", "prohibit-password"},
    };
    return values;
}

// The value sshd uses for a keyword, and the line that set it (none for a default).
struct Effective {
    std::string value;
    const SshdSetting* where = nullptr;
};

class View {
public:
    View(const SshdConfig& config, const std::map<std::string, std::string>* from_sshd,
         const SshdMatch* match)
        : config_(config), from_sshd_(from_sshd), match_(match) {}

    Effective get(const std::string& keyword) const {
        if (match_) {
            auto it = match_->settings.find(keyword);
            if (it != match_->settings.end()) return {lower(it->second.value), &it->second};
        }
        auto it = config_.global.find(keyword);
        const SshdSetting* where = it == config_.global.end() ? nullptr : &it->second;
        if (from_sshd_) {
            auto value = from_sshd_->find(keyword);
            if (value != from_sshd_->end()) return {lower(value->second), where};
        }
        if (where) return {lower(where->value), where};
        return {defaults().at(keyword), nullptr};
    }

private:
    const SshdConfig& config_;
    const std::map<std::string, std::string>* from_sshd_;
    const SshdMatch* match_;
};

bool yes(const std::string& value) {
    return value == "yes";
}

// Whether some AuthenticationMethods list lets `publickey` finish a login without
// keyboard-interactive (the only method that runs PAM's auth stack with its prompts).
bool pubkey_alone(const View& view) {
    if (!yes(view.get("pubkeyauthentication").value)) return false;
    const std::string methods = view.get("authenticationmethods").value;
    if (methods == "any") return true;
    for (const auto& list : split_words(methods)) {
        if (list.find("publickey") == std::string::npos) continue;
        if (list.find("keyboard-interactive") == std::string::npos) return true;
    }
    return false;
}

bool root_key_allowed(const std::string& value) {
    return value == "yes" || value == "prohibit-password" || value == "without-password" ||
           value == "forced-commands-only";
}

// The line to point at: the first of the keywords that was set, else the main file.
void located(const SshdConfig& config, const View& view,
             std::initializer_list<const char*> keywords, std::string& file, int& line) {
    for (const char* keyword : keywords)
        if (auto e = view.get(keyword); e.where) {
            file = e.where->file;
            line = e.where->line;
            return;
        }
    file = config.file;
    line = 0;
}

void check_global(const SshdConfig& config, const View& view, bool module_in_stack,
                  Findings& findings) {
    std::string file;
    int line = 0;
    const bool use_pam = yes(view.get("usepam").value);
    if (!use_pam) {
        located(config, view, {"usepam"}, file, line);
        findings.add(Severity::Critical, "sshd-usepam",
                     "UsePAM no: sshd never runs PAM, so no ssh login asks for the code", file,
                     line, "UsePAM yes, and AuthenticationMethods as the README says");
    }
    if (pubkey_alone(view)) {
        located(config, view, {"authenticationmethods", "pubkeyauthentication"}, file, line);
        findings.add(Severity::Critical, "sshd-pubkey-alone",
                     "a public key logs in alone: publickey does not run PAM's auth stack, and "
                     "AuthenticationMethods does not add keyboard-interactive",
                     file, line, "AuthenticationMethods publickey,keyboard-interactive");
    }
    if (use_pam && module_in_stack && !yes(view.get("kbdinteractiveauthentication").value)) {
        located(config, view, {"kbdinteractiveauthentication"}, file, line);
        findings.add(Severity::Warning, "sshd-kbdinteractive-off",
                     "KbdInteractiveAuthentication no while pam_twofactor.so is in sshd's stack: "
                     "the password method feeds the password to the code prompt (a failed code "
                     "and a text for every password login), and no one can type a code",
                     file, line, "KbdInteractiveAuthentication yes");
    }
    const auto root = view.get("permitrootlogin");
    if (root_key_allowed(root.value) && pubkey_alone(view)) {
        located(config, view, {"permitrootlogin"}, file, line);
        findings.add(Severity::Critical, "sshd-root-login",
                     "PermitRootLogin " + root.value +
                         " lets root in with a key alone, without "
                         "the second factor",
                     file, line,
                     "PermitRootLogin no, or AuthenticationMethods "
                     "publickey,keyboard-interactive");
    }
}

// The user a `Match User NAME` block names, when it names exactly one without a pattern: then
// `sshd -T -C user=NAME,...` tells what sshd itself makes of the block.
std::string single_user(const SshdMatch& match) {
    const auto words = split_words(match.criteria);
    if (words.size() != 2 || lower(words[0]) != "user") return "";
    if (words[1].find_first_of("*?,!") != std::string::npos) return "";
    return words[1];
}

// A Match block that sets one of the keywords so that the connections it matches skip what
// the global configuration requires. `from_sshd`: what sshd -T -C said for the block's user.
void check_match(const SshdConfig& config, const View& global, const SshdMatch& match,
                 const std::map<std::string, std::string>* from_sshd, bool module_in_stack,
                 Findings& findings) {
    const View view(config, from_sshd, from_sshd ? nullptr : &match);
    // At the first of `keywords` the block sets; else, when sshd -C judged the block (an
    // Include inside it may have set the value), at the Match line.
    auto report = [&](std::initializer_list<const char*> keywords, const std::string& what,
                      const std::string& fix) {
        std::string file = match.file;
        int line = match.line;
        bool here = false;
        for (const char* keyword : keywords)
            if (auto it = match.settings.find(keyword); !here && it != match.settings.end()) {
                file = it->second.file;
                line = it->second.line;
                here = true;
            }
        if (!here && !from_sshd) return;
        findings.add(
            Severity::Critical, "sshd-match",
            "Match " + match.criteria + " (line " + std::to_string(match.line) + "): " + what, file,
            line, fix);
    };
    if (pubkey_alone(view) && !pubkey_alone(global))
        report({"authenticationmethods", "pubkeyauthentication"}, "a public key logs in alone",
               "AuthenticationMethods publickey,keyboard-interactive in the Match block, or "
               "remove what the block changes");
    if (module_in_stack && !yes(view.get("kbdinteractiveauthentication").value) &&
        yes(global.get("kbdinteractiveauthentication").value))
        report({"kbdinteractiveauthentication"},
               "keyboard-interactive is off, so the code cannot be asked",
               "remove KbdInteractiveAuthentication from the Match block");
    // A block for one other user never applies to root.
    const std::string user = single_user(match);
    if ((user.empty() || user == "root") && root_key_allowed(view.get("permitrootlogin").value) &&
        pubkey_alone(view) &&
        !(root_key_allowed(global.get("permitrootlogin").value) && pubkey_alone(global)))
        report({"permitrootlogin", "authenticationmethods", "pubkeyauthentication"},
               "root logs in with a key alone", "PermitRootLogin no in the Match block");
}

}  // namespace

void check_sshd(const Tree& tree, const std::string& sshd_config, const PamReport& pam,
                Findings& findings) {
    const bool on_host = !sshd_config.empty();
    const std::string path = on_host ? sshd_config : "/etc/ssh/sshd_config";
    const auto config = read_sshd_config(tree, path, on_host, findings);
    if (!config) {
        if (on_host)
            findings.add(Severity::Warning, "sshd-config", path + " does not exist", path, 0,
                         "name sshd's configuration file");
        return;  // no sshd here
    }
    // sshd -T resolves Include and defaults itself, but only on this machine's own files.
    std::optional<std::map<std::string, std::string>> effective;
    std::string error = "--root: the files of the tree were read";
    if (tree.is_root()) effective = run_sshd_t(on_host ? path : tree.host_path(path), error);
    if (!effective)
        findings.add(Severity::Note, "sshd-parsed",
                     "sshd -T was not used (" + error + "); " + path +
                         " and its Includes were parsed instead",
                     path, 0, "");

    auto has = pam.service_has_module.find("sshd");
    const bool module_in_stack = has != pam.service_has_module.end() && has->second;
    const View global(*config, effective ? &*effective : nullptr, nullptr);
    check_global(*config, global, module_in_stack, findings);
    for (const auto& match : config->matches) {
        std::optional<std::map<std::string, std::string>> for_user;
        if (effective && !single_user(match).empty()) {
            std::string ignored;
            for_user = run_sshd_t(on_host ? path : tree.host_path(path), ignored,
                                  "user=" + single_user(match) + ",host=localhost,addr=127.0.0.1");
        }
        check_match(*config, global, match, for_user ? &*for_user : nullptr, module_in_stack,
                    findings);
    }
}

}  // namespace twofactor::ctl::doctor
