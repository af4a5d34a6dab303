// SPDX-License-Identifier: BSD-2-Clause
// A real libpam handle (pam_start_confdir on a throw-away service file) whose conversation
// answers prompts from a script and writes down everything the module said.
#pragma once

#include <security/pam_appl.h>

#include <deque>
#include <functional>
#include <string>
#include <vector>

namespace twofactor::test {

class ScriptedPam {
public:
    explicit ScriptedPam(std::deque<std::string> answers, const char* user = "alice");
    ~ScriptedPam();
    ScriptedPam(const ScriptedPam&) = delete;
    ScriptedPam& operator=(const ScriptedPam&) = delete;

    pam_handle_t* handle() const { return pamh_; }
    void set_item(int type, const char* value);

    // "info: ...", "error: ...", "prompt: ..." (echo off) or "prompt-echo: ...", in order.
    const std::vector<std::string>& transcript() const { return transcript_; }
    bool said(const std::string& text) const;  // some line contains `text`
    int prompts() const;
    std::size_t answers_left() const { return answers_.size(); }

    // Makes the next prompt come back PAM_SUCCESS with a NULL response.
    bool answer_null = false;
    // Runs at each prompt, before it is answered (a test stops its daemon there).
    std::function<void()> on_prompt;

private:
    static int converse(int count, const pam_message** messages, pam_response** responses,
                        void* self);

    std::deque<std::string> answers_;
    std::vector<std::string> transcript_;
    std::string directory_;
    pam_handle_t* pamh_ = nullptr;
};

}  // namespace twofactor::test
