// SPDX-License-Identifier: BSD-2-Clause
#include "scripted_pam.h"

#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <stdexcept>

namespace twofactor::test {

namespace {

constexpr const char* kService = "twofactor-unit";

// Frees the answers given so far, as a conversation function must when it fails.
int fail(pam_response* out, int filled) {
    for (int j = 0; j < filled; ++j) std::free(out[j].resp);
    std::free(out);
    return PAM_CONV_ERR;
}

}  // namespace

ScriptedPam::ScriptedPam(std::deque<std::string> answers, const char* user)
    : answers_(std::move(answers)) {
    char templ[] = "/tmp/pam-conf-XXXXXX";
    if (mkdtemp(templ) == nullptr) throw std::runtime_error("mkdtemp failed");
    directory_ = templ;
    // The tests call the module's code directly; the stack itself is never run.
    std::ofstream(directory_ + "/" + kService) << "auth required pam_deny.so\n";
    const pam_conv conversation{&ScriptedPam::converse, this};
    if (pam_start_confdir(kService, user, &conversation, directory_.c_str(), &pamh_) != PAM_SUCCESS)
        throw std::runtime_error("pam_start_confdir failed");
}

ScriptedPam::~ScriptedPam() {
    if (pamh_ != nullptr) pam_end(pamh_, PAM_SUCCESS);
    unlink((directory_ + "/" + kService).c_str());
    rmdir(directory_.c_str());
}

void ScriptedPam::set_item(int type, const char* value) {
    if (pam_set_item(pamh_, type, value) != PAM_SUCCESS)
        throw std::runtime_error("pam_set_item failed");
}

bool ScriptedPam::said(const std::string& text) const {
    for (const auto& line : transcript_)
        if (line.find(text) != std::string::npos) return true;
    return false;
}

int ScriptedPam::prompts() const {
    int count = 0;
    for (const auto& line : transcript_)
        if (line.rfind("prompt", 0) == 0) ++count;
    return count;
}

int ScriptedPam::converse(int count, const pam_message** messages, pam_response** responses,
                          void* self_pointer) {
    auto* self = static_cast<ScriptedPam*>(self_pointer);
    auto* out = static_cast<pam_response*>(
        std::calloc(static_cast<std::size_t>(count), sizeof(pam_response)));
    if (out == nullptr) return PAM_BUF_ERR;
    for (int i = 0; i < count; ++i) {
        const std::string text = messages[i]->msg != nullptr ? messages[i]->msg : "";
        switch (messages[i]->msg_style) {
            case PAM_TEXT_INFO:
                self->transcript_.push_back("info: " + text);
                break;
            case PAM_ERROR_MSG:
                self->transcript_.push_back("error: " + text);
                break;
            case PAM_PROMPT_ECHO_OFF:
            case PAM_PROMPT_ECHO_ON: {
                const bool echo = messages[i]->msg_style == PAM_PROMPT_ECHO_ON;
                self->transcript_.push_back((echo ? "prompt-echo: " : "prompt: ") + text);
                if (self->on_prompt) self->on_prompt();
                if (self->answer_null) {
                    self->answer_null = false;
                    break;
                }
                if (self->answers_.empty()) return fail(out, i);
                out[i].resp = strdup(self->answers_.front().c_str());
                self->answers_.pop_front();
                break;
            }
            default:
                return fail(out, i);
        }
    }
    *responses = out;
    return PAM_SUCCESS;
}

}  // namespace twofactor::test
