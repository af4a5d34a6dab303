// SPDX-License-Identifier: BSD-2-Clause
// The PAM conversation, wrapped: messages for the user and one prompt at a time. Responses are
// wiped before they are freed: they hold codes.
#pragma once

#include <security/pam_modules.h>

#include <optional>
#include <string_view>

#include "common/secure.h"

namespace twofactor::pam {

class Conversation {
public:
    // `silent` (PAM_SILENT) drops info messages; errors and prompts still go through.
    Conversation(pam_handle_t* pamh, bool silent);

    // Failures to show a message are not fatal: some applications show no messages at all.
    void info(std::string_view text);
    void error(std::string_view text);

    // The user's answer, or nullopt when the application could not ask (no conversation
    // function, an error, no response).
    std::optional<SecureString> ask(std::string_view prompt, bool echo);

private:
    // One message through the application's conversation function; fills `answer` for prompts.
    int converse(int style, std::string_view text, std::optional<SecureString>* answer);

    pam_handle_t* pamh_;
    bool silent_;
};

}  // namespace twofactor::pam
