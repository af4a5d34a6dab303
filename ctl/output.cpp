// SPDX-License-Identifier: BSD-2-Clause
#include "ctl/output.h"

#include <openssl/crypto.h>

#include <cctype>
#include <cstdio>

namespace twofactor::ctl {

namespace {

// "io.twofactor.InvalidCode" -> "InvalidCode".
std::string_view short_name(std::string_view error) {
    constexpr std::string_view prefix = "io.twofactor.";
    if (error.substr(0, prefix.size()) == prefix) error.remove_prefix(prefix.size());
    return error;
}

// What each error is called in a sentence, when the daemon's message does not already say it.
std::string_view lead_for(std::string_view name) {
    if (name == "InvalidCode") return "invalid code";
    if (name == "NotFound") return "no such login challenge";
    if (name == "NotEnrolled") return "not enrolled";
    if (name == "Locked") return "locked";
    if (name == "PermissionDenied") return "permission denied";
    if (name == "InvalidParameter") return "invalid parameter";
    if (name == "DeliveryFailed") return "the text message was not delivered";
    if (name == "RateLimited") return "too many text messages";
    if (name == "MethodNotFound") return "the daemon does not know this command";
    if (name == "InternalError") return "the daemon failed";
    if (name == "Unavailable") return "the daemon cannot reach its database";
    return "";
}

bool contains_ignoring_case(std::string_view haystack, std::string_view needle) {
    if (needle.empty()) return true;
    for (std::size_t start = 0; start + needle.size() <= haystack.size(); ++start) {
        bool match = true;
        for (std::size_t k = 0; k < needle.size() && match; ++k)
            match = std::tolower(static_cast<unsigned char>(haystack[start + k])) ==
                    std::tolower(static_cast<unsigned char>(needle[k]));
        if (match) return true;
    }
    return false;
}

std::string strip_final_period(std::string text) {
    while (!text.empty() && (text.back() == '.' || text.back() == ' ')) text.pop_back();
    return text;
}

// The details an error's parameters carry, as the tail of the sentence.
std::string details_for(std::string_view name, const json& p) {
    if (name == "InvalidCode") {
        if (auto left = integer_field(p, "attemptsLeft")) return tries_left(*left);
    } else if (name == "Locked") {
        if (auto until = integer_field(p, "lockedUntil")) return "until " + local_time(*until);
    } else if (name == "InvalidParameter") {
        std::string field = text_field(p, "field");
        std::string reason = text_field(p, "reason");
        if (!field.empty() && !reason.empty()) return field + ": " + reason;
        if (!field.empty()) return "field " + field;
    } else if (name == "DeliveryFailed") {
        std::string tail;
        auto code = integer_field(p, "code");
        auto status = integer_field(p, "status");
        if (code && *code != 0) tail = "Twilio error " + std::to_string(*code);
        if (status && *status != 0)
            tail += (tail.empty() ? "" : ", ") + std::string("HTTP ") + std::to_string(*status);
        return tail;
    } else if (name == "RateLimited") {
        if (auto after = integer_field(p, "retryAfter"))
            return "try again in " + std::to_string(*after) + " seconds";
    } else if (name == "NotEnrolled") {
        std::string user = text_field(p, "user");
        if (!user.empty()) return "user " + user;
    } else if (name == "MethodNotFound") {
        std::string method = text_field(p, "method");
        if (!method.empty()) return method;
    }
    return "";
}

}  // namespace

std::string text_field(const json& parameters, std::string_view key, std::string_view fallback) {
    if (!parameters.is_object()) return std::string(fallback);
    auto it = parameters.find(key);
    if (it == parameters.end() || it->is_null()) return std::string(fallback);
    if (it->is_string()) return it->get<std::string>();
    return it->dump();
}

std::optional<std::int64_t> integer_field(const json& parameters, std::string_view key) {
    if (!parameters.is_object()) return std::nullopt;
    auto it = parameters.find(key);
    if (it == parameters.end() || !it->is_number_integer()) return std::nullopt;
    return it->get<std::int64_t>();
}

bool bool_field(const json& parameters, std::string_view key) {
    if (!parameters.is_object()) return false;
    auto it = parameters.find(key);
    return it != parameters.end() && it->is_boolean() && it->get<bool>();
}

std::string error_sentence(const CallResult& result) {
    std::string_view name = short_name(result.error);
    std::string message = strip_final_period(text_field(result.parameters, "message"));
    std::string lead(lead_for(name));
    if (lead.empty()) lead = "the daemon answered " + std::string(name);

    std::string sentence;
    if (message.empty() || !contains_ignoring_case(message, lead)) sentence = lead;
    if (!message.empty()) sentence += (sentence.empty() ? "" : ": ") + message;
    std::string details = strip_final_period(details_for(name, result.parameters));
    if (!details.empty() && !contains_ignoring_case(sentence, details))
        sentence += " (" + details + ")";
    return sentence;
}

void print_json(const json& value) {
    std::string text = value.dump(2, ' ', false, json::error_handler_t::replace);
    text.push_back('\n');
    std::fwrite(text.data(), 1, text.size(), stdout);
    std::fflush(stdout);
    OPENSSL_cleanse(text.data(), text.size());
}

void print_line(std::string_view line) {
    std::fwrite(line.data(), 1, line.size(), stdout);
    std::fputc('\n', stdout);
    std::fflush(stdout);
}

void print_error_line(std::string_view line) {
    std::fprintf(stderr, "twofactorctl: %.*s\n", static_cast<int>(line.size()), line.data());
}

int report_error(const CallResult& result, bool as_json) {
    if (as_json)
        print_json(json{{"error", result.error}, {"parameters", result.parameters}});
    else
        print_error_line(error_sentence(result));
    // The daemon is there but its store is not: to a script, the same as no daemon.
    if (result.error == protocol::error::Unavailable) return kExitUnreachable;
    return kExitRefused;
}

void wipe_json(json& value) {
    if (value.is_string()) {
        auto& text = value.get_ref<std::string&>();
        OPENSSL_cleanse(text.data(), text.size());
    } else if (value.is_structured()) {
        for (auto& child : value) wipe_json(child);
    }
}

}  // namespace twofactor::ctl
