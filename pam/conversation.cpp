// SPDX-License-Identifier: BSD-2-Clause
#include "pam/conversation.h"

#include <security/pam_appl.h>
#include <string.h>  // explicit_bzero

#include <cstdlib>
#include <cstring>
#include <string>

namespace twofactor::pam {
namespace {

// Wipes and frees what the application allocated for the answers.
void release(pam_response* responses, int count) {
    if (responses == nullptr) return;
    for (int i = 0; i < count; ++i) {
        if (responses[i].resp == nullptr) continue;
        explicit_bzero(responses[i].resp, std::strlen(responses[i].resp));
        std::free(responses[i].resp);
    }
    std::free(responses);
}

}  // namespace

Conversation::Conversation(pam_handle_t* pamh, bool silent) : pamh_(pamh), silent_(silent) {}

void Conversation::info(std::string_view text) {
    if (!silent_) converse(PAM_TEXT_INFO, text, nullptr);
}

void Conversation::error(std::string_view text) {
    converse(PAM_ERROR_MSG, text, nullptr);
}

std::optional<SecureString> Conversation::ask(std::string_view prompt, bool echo) {
    std::optional<SecureString> answer;
    if (converse(echo ? PAM_PROMPT_ECHO_ON : PAM_PROMPT_ECHO_OFF, prompt, &answer) != PAM_SUCCESS)
        return std::nullopt;
    return answer;
}

int Conversation::converse(int style, std::string_view text, std::optional<SecureString>* answer) {
    const void* item = nullptr;
    int status = pam_get_item(pamh_, PAM_CONV, &item);
    const auto* conv = static_cast<const pam_conv*>(item);
    if (status != PAM_SUCCESS) return status;
    if (conv == nullptr || conv->conv == nullptr) return PAM_CONV_ERR;

    const std::string message_text(text);
    pam_message message{};
    message.msg_style = style;
    message.msg = message_text.c_str();
    const pam_message* messages[] = {&message};
    pam_response* responses = nullptr;
    status = conv->conv(1, messages, &responses, conv->appdata_ptr);

    if (status == PAM_SUCCESS && answer != nullptr) {
        if (responses != nullptr && responses[0].resp != nullptr)
            answer->emplace(std::string_view(responses[0].resp));
        else
            status = PAM_CONV_ERR;
    }
    release(responses, 1);
    return status;
}

}  // namespace twofactor::pam
