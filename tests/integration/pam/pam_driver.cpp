// SPDX-License-Identifier: BSD-2-Clause
// A small libpam application for the integration tests: pam_start_confdir() on a service file
// the test wrote, PAM_RHOST and PAM_TTY set, pam_authenticate(). Its conversation prints every
// message on stdout, one line each ("info: ...", "error: ...", "prompt: ...", "prompt-echo:
// ..."), and answers each prompt with the next line read from stdin, so the test can decide an
// answer after it saw the prompt (e.g. fetch the code that was just texted). End of input
// fails the conversation. pam_syslog() lines of the module go to stderr as "log: PRIORITY TEXT".
// libpam's failure delay is not slept but printed, "delay: USECONDS" (after libpam's random
// spread; nothing when none was asked for), so the tests see it without waiting for it.
// Last line: "result=PAM_NAME"; the exit status is the PAM code.
//
//   pam_driver --confdir DIR --service NAME --user USER [--rhost HOST] [--tty TTY] [--silent]
#include <dlfcn.h>
#include <pwd.h>
#include <security/pam_appl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "pam/outcomes.h"

namespace {

// One line from stdin without its newline; false at end of input.
bool read_line(std::string& line) {
    line.clear();
    for (std::size_t i = 0; i < 4096; ++i) {
        char c;
        const ssize_t n = read(STDIN_FILENO, &c, 1);
        if (n <= 0) return !line.empty();
        if (c == '\n') return true;
        line.push_back(c);
    }
    return true;
}

int converse(int count, const pam_message** messages, pam_response** responses, void*) {
    auto* out = static_cast<pam_response*>(
        std::calloc(static_cast<std::size_t>(count), sizeof(pam_response)));
    if (out == nullptr) return PAM_BUF_ERR;
    for (int i = 0; i < count; ++i) {
        const char* text = messages[i]->msg != nullptr ? messages[i]->msg : "";
        const char* kind = "unknown";
        switch (messages[i]->msg_style) {
            case PAM_TEXT_INFO:
                kind = "info";
                break;
            case PAM_ERROR_MSG:
                kind = "error";
                break;
            case PAM_PROMPT_ECHO_OFF:
                kind = "prompt";
                break;
            case PAM_PROMPT_ECHO_ON:
                kind = "prompt-echo";
                break;
        }
        std::printf("%s: %s\n", kind, text);
        std::fflush(stdout);
        if (messages[i]->msg_style != PAM_PROMPT_ECHO_OFF &&
            messages[i]->msg_style != PAM_PROMPT_ECHO_ON)
            continue;
        std::string answer;
        if (!read_line(answer)) {
            for (int j = 0; j < i; ++j) std::free(out[j].resp);
            std::free(out);
            return PAM_CONV_ERR;
        }
        out[i].resp = strdup(answer.c_str());
    }
    *responses = out;
    return PAM_SUCCESS;
}

void record_delay(int, unsigned microseconds, void*) {
    if (microseconds == 0) return;  // nothing was asked for
    std::printf("delay: %u\n", microseconds);
    std::fflush(stdout);
}

int usage() {
    std::fprintf(stderr,
                 "usage: pam_driver --confdir DIR --service NAME --user USER [--rhost HOST] "
                 "[--tty TTY] [--silent]\n");
    return 64;
}

}  // namespace

// libpam's pam_syslog() ends in glibc's __syslog_chk; defined here, it binds to this program.
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
extern "C" void __syslog_chk(int priority, int, const char* format, ...) {
    char text[2048];
    va_list arguments;
    va_start(arguments, format);
    std::vsnprintf(text, sizeof(text), format, arguments);
    va_end(arguments);
    std::fprintf(stderr, "log: %d %s\n", priority & 7, text);
    std::fflush(stderr);
}

// With PAM_DRIVER_ACCOUNT=NAME in the environment, NAME is an account (for tests whose users
// are no system accounts: the module looks every user up in NSS); any other name, and every
// name without it, goes to the C library. Exported (ENABLE_EXPORTS), so the module binds here.
extern "C" int getpwnam_r(const char* name, passwd* entry, char* buffer, size_t size,
                          passwd** result) {
    using Lookup = int (*)(const char*, passwd*, char*, size_t, passwd**);
    *result = nullptr;
    const char* account = std::getenv("PAM_DRIVER_ACCOUNT");
    if (account == nullptr || std::strcmp(account, name) != 0) {
        static const auto real = reinterpret_cast<Lookup>(dlsym(RTLD_NEXT, "getpwnam_r"));
        return real != nullptr ? real(name, entry, buffer, size, result) : ENOSYS;
    }
    const std::size_t length = std::strlen(name) + 1;
    if (size < length + 1) return ERANGE;
    std::memcpy(buffer, name, length);
    buffer[length] = '\0';
    *entry = passwd{};
    entry->pw_name = buffer;
    entry->pw_passwd = entry->pw_gecos = entry->pw_dir = entry->pw_shell = buffer + length;
    entry->pw_uid = entry->pw_gid = 65534;
    *result = entry;
    return 0;
}

int main(int argc, char** argv) {
    const char* confdir = nullptr;
    const char* service = nullptr;
    const char* user = nullptr;
    const char* rhost = nullptr;
    const char* tty = nullptr;
    int flags = 0;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        if (arg == "--silent") {
            flags |= PAM_SILENT;
            continue;
        }
        if (i + 1 >= argc) return usage();
        const char* value = argv[++i];
        if (arg == "--confdir")
            confdir = value;
        else if (arg == "--service")
            service = value;
        else if (arg == "--user")
            user = value;
        else if (arg == "--rhost")
            rhost = value;
        else if (arg == "--tty")
            tty = value;
        else
            return usage();
    }
    if (confdir == nullptr || service == nullptr || user == nullptr) return usage();

    const pam_conv conversation{converse, nullptr};
    pam_handle_t* pamh = nullptr;
    int status = pam_start_confdir(service, user, &conversation, confdir, &pamh);
    if (status != PAM_SUCCESS) {
        std::printf("result=%s\n", twofactor::pam::pam_code_name(status));
        return status;
    }
    void (*delay_function)(int, unsigned, void*) = record_delay;
    status = pam_set_item(pamh, PAM_FAIL_DELAY, reinterpret_cast<const void*>(delay_function));
    if (status == PAM_SUCCESS && rhost != nullptr) status = pam_set_item(pamh, PAM_RHOST, rhost);
    if (status == PAM_SUCCESS && tty != nullptr) status = pam_set_item(pamh, PAM_TTY, tty);
    if (status == PAM_SUCCESS) status = pam_authenticate(pamh, flags);
    std::printf("result=%s\n", twofactor::pam::pam_code_name(status));
    std::fflush(stdout);
    pam_end(pamh, status);
    return status;
}
