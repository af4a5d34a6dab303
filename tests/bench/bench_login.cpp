// SPDX-License-Identifier: BSD-2-Clause
#include "bench_login.h"

#include <fcntl.h>
#include <security/pam_appl.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "common/totp.h"

namespace twofactor::bench {
namespace {

int hex_digit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

std::string decode_hex(const std::string& hex) {
    if (hex.empty() || hex.size() % 2 != 0) throw std::runtime_error("odd or empty hex key");
    std::string bytes;
    for (std::size_t i = 0; i < hex.size(); i += 2) {
        int high = hex_digit(hex[i]);
        int low = hex_digit(hex[i + 1]);
        if (high < 0 || low < 0) throw std::runtime_error("a key is not hex");
        bytes.push_back(static_cast<char>(high * 16 + low));
    }
    return bytes;
}

// The code the endpoint saved for this number: written before it answered the daemon, so it is
// there by the time the module prompts. Reading a small file keeps the lookup off the endpoint.
std::string texted_code(const std::string& codes_dir, const std::string& number) {
    std::string path = codes_dir + "/" + number;
    int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return "000000";
    char buffer[16] = {};
    ssize_t n = read(fd, buffer, sizeof(buffer) - 1);
    close(fd);
    std::string code;
    for (ssize_t i = 0; i < n && code.size() < 6; ++i) {
        if (buffer[i] >= '0' && buffer[i] <= '9') code.push_back(buffer[i]);
    }
    return code.size() == 6 ? code : "000000";
}

std::string code_for(const LoginSetup& setup, const BenchUser& user) {
    switch (user.source) {
        case CodeSource::Texted:
            return texted_code(setup.codes_dir, user.value);
        case CodeSource::Totp:
            return totp_code(user.value, totp_step(static_cast<std::int64_t>(std::time(nullptr))));
        case CodeSource::None:
            break;
    }
    return {};
}

struct ConversationState {
    const LoginSetup* setup;
    const BenchUser* user;
    LoginRecord* record;
};

void keep_message(LoginRecord& record, const char* text) {
    std::strncpy(record.last_message, text, sizeof(record.last_message) - 1);
    record.last_message[sizeof(record.last_message) - 1] = '\0';
}

int converse(int count, const pam_message** messages, pam_response** responses, void* data) {
    auto* state = static_cast<ConversationState*>(data);
    auto* out = static_cast<pam_response*>(
        std::calloc(static_cast<std::size_t>(count), sizeof(pam_response)));
    if (out == nullptr) return PAM_BUF_ERR;
    for (int i = 0; i < count; ++i) {
        const int style = messages[i]->msg_style;
        const char* text = messages[i]->msg != nullptr ? messages[i]->msg : "";
        if (style == PAM_ERROR_MSG || style == PAM_TEXT_INFO) {
            keep_message(*state->record, text);
            continue;
        }
        if (style != PAM_PROMPT_ECHO_OFF && style != PAM_PROMPT_ECHO_ON) continue;
        if (state->record->prompt_ns == 0) state->record->prompt_ns = monotonic_ns();
        out[i].resp = strdup(code_for(*state->setup, *state->user).c_str());
    }
    *responses = out;
    return PAM_SUCCESS;
}

}  // namespace

std::int64_t monotonic_ns() {
    timespec now{};
    clock_gettime(CLOCK_MONOTONIC, &now);
    return static_cast<std::int64_t>(now.tv_sec) * 1000000000 + now.tv_nsec;
}

std::vector<BenchUser> read_users(const std::string& path) {
    std::ifstream in(path);
    if (!in) throw std::runtime_error("cannot read " + path);
    std::vector<BenchUser> users;
    std::string line;
    for (int number = 1; std::getline(in, line); ++number) {
        if (line.empty() || line[0] == '#') continue;
        std::istringstream fields(line);
        BenchUser user;
        std::string kind;
        if (!(fields >> user.name >> kind >> user.value))
            throw std::runtime_error(path + ":" + std::to_string(number) +
                                     ": expected NAME text|totp|none VALUE");
        if (kind == "text") {
            user.source = CodeSource::Texted;
        } else if (kind == "totp") {
            user.source = CodeSource::Totp;
            try {
                user.value = decode_hex(user.value);
            } catch (const std::runtime_error& e) {
                throw std::runtime_error(path + ":" + std::to_string(number) + ": " + e.what());
            }
        } else if (kind == "none") {
            user.source = CodeSource::None;
        } else {
            throw std::runtime_error(path + ":" + std::to_string(number) + ": unknown kind '" +
                                     kind + "'");
        }
        users.push_back(std::move(user));
    }
    return users;
}

void run_login(const LoginSetup& setup, const BenchUser& user, LoginRecord& record) {
    ConversationState state{&setup, &user, &record};
    const pam_conv conversation{converse, &state};
    record.started_ns = monotonic_ns();
    pam_handle_t* pamh = nullptr;
    int status = pam_start_confdir(setup.service.c_str(), user.name.c_str(), &conversation,
                                   setup.confdir.c_str(), &pamh);
    if (status == PAM_SUCCESS) {
        record.authenticate_ns = monotonic_ns();
        timespec wall{};
        clock_gettime(CLOCK_REALTIME, &wall);
        record.authenticate_unix_us =
            static_cast<std::int64_t>(wall.tv_sec) * 1000000 + wall.tv_nsec / 1000;
        status = pam_authenticate(pamh, 0);
        pam_end(pamh, status);
    } else {
        record.authenticate_ns = record.started_ns;
    }
    record.pam_status = status;
    record.ended_ns = monotonic_ns();
    record.done = true;
}

}  // namespace twofactor::bench
