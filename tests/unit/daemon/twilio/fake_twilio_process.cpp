// SPDX-License-Identifier: BSD-2-Clause
#include "fake_twilio_process.h"

#include <curl/curl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <stdexcept>
#include <thread>

namespace twofactor::testing {
namespace {

using namespace std::chrono_literals;

size_t collect(char* data, size_t size, size_t count, void* out) {
    static_cast<std::string*>(out)->append(data, size * count);
    return size * count;
}

// True once `pid` has exited, reaping it; false if it still runs after `limit`.
bool reaped_within(pid_t pid, std::chrono::milliseconds limit) {
    auto until = std::chrono::steady_clock::now() + limit;
    do {
        int status = 0;
        pid_t done = waitpid(pid, &status, WNOHANG);
        if (done == pid || done < 0) return true;
        std::this_thread::sleep_for(20ms);
    } while (std::chrono::steady_clock::now() < until);
    return false;
}

}  // namespace

FakeTwilio::FakeTwilio() {
    char directory[] = "/tmp/unit-twilio-XXXXXX";
    if (mkdtemp(directory) == nullptr) throw std::runtime_error("mkdtemp failed");
    directory_ = directory;
    port_file_ = directory_ + "/port";

    pid_t parent = getpid();
    pid_ = fork();
    if (pid_ < 0) throw std::runtime_error("fork failed");
    if (pid_ == 0) {
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        if (getppid() != parent) _exit(1);  // the test died before prctl took effect
        execl(FAKE_TWILIO_PYTHON, FAKE_TWILIO_PYTHON, FAKE_TWILIO_SCRIPT, "--port", "0",
              "--account-sid", kFakeAccountSid, "--auth-token", kFakeAuthToken, "--api-key-sid",
              kFakeApiKeySid, "--api-key-secret", kFakeApiKeySecret, "--verify-service-sid",
              kFakeVerifySid, "--port-file", port_file_.c_str(), static_cast<char*>(nullptr));
        _exit(127);
    }

    auto until = std::chrono::steady_clock::now() + 15s;
    while (std::chrono::steady_clock::now() < until) {
        std::ifstream file(port_file_);
        if (file >> port_ && port_ > 0) return;
        int status = 0;
        if (waitpid(pid_, &status, WNOHANG) == pid_) {
            pid_ = -1;
            break;
        }
        std::this_thread::sleep_for(20ms);
    }
    stop();
    throw std::runtime_error("fake_twilio.py did not start within 15 s");
}

FakeTwilio::~FakeTwilio() {
    stop();
}

void FakeTwilio::stop() {
    if (pid_ > 0) {
        kill(pid_, SIGTERM);
        if (!reaped_within(pid_, 5000ms)) {
            kill(pid_, SIGKILL);
            waitpid(pid_, nullptr, 0);
        }
        pid_ = -1;
    }
    if (!port_file_.empty()) unlink(port_file_.c_str());
    if (!directory_.empty()) rmdir(directory_.c_str());
    port_file_.clear();
    directory_.clear();
}

nlohmann::json FakeTwilio::control(const std::string& path, const std::string* post_body) {
    CURL* easy = curl_easy_init();
    if (easy == nullptr) throw std::runtime_error("curl_easy_init failed");
    std::string url = this->url() + "/_control/" + path;
    std::string answer;
    curl_easy_setopt(easy, CURLOPT_URL, url.c_str());
    curl_easy_setopt(easy, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, 10000L);
    curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, &collect);
    curl_easy_setopt(easy, CURLOPT_WRITEDATA, &answer);
    if (post_body != nullptr) {
        curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE, static_cast<long>(post_body->size()));
        curl_easy_setopt(easy, CURLOPT_POSTFIELDS, post_body->c_str());
    }
    CURLcode rc = curl_easy_perform(easy);
    long status = 0;
    curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(easy);
    if (rc != CURLE_OK || status != 200) {
        throw std::runtime_error("control request " + path + " failed: " + curl_easy_strerror(rc) +
                                 ", HTTP " + std::to_string(status) + ", " + answer);
    }
    return nlohmann::json::parse(answer);
}

void FakeTwilio::reset() {
    std::string empty;
    control("reset", &empty);
}

void FakeTwilio::behave(const nlohmann::json& behaviour) {
    std::string body = behaviour.dump();
    control("behaviour", &body);
}

nlohmann::json FakeTwilio::messages() {
    return control("messages", nullptr);
}

nlohmann::json FakeTwilio::calls() {
    return control("calls", nullptr);
}

std::string FakeTwilio::verify_code(const std::string& to) {
    // E.164 numbers hold only '+' and digits: '+' is the one character to escape.
    std::string query = "verify_code?To=%2B" + to.substr(to.starts_with('+') ? 1 : 0);
    return control(query, nullptr)["code"].get<std::string>();
}

}  // namespace twofactor::testing
