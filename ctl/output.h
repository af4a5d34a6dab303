// SPDX-License-Identifier: BSD-2-Clause
// How results and errors reach the person or the script: plain sentences, or JSON with --json.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/client.h"
#include "common/protocol.h"
#include "common/wording.h"  // tries_left, local_time: worded as the PAM module words them

namespace twofactor::ctl {

using protocol::json;

enum ExitStatus : int {
    kExitSuccess = 0,
    kExitRefused = 1,  // the daemon said no (bad code, not found, locked, permission...)
    kExitUsage = 2,
    kExitUnreachable = 69,  // EX_UNAVAILABLE
};

// A reply's field as text or number, tolerating absent fields and nulls.
std::string text_field(const json& parameters, std::string_view key,
                       std::string_view fallback = "");
std::optional<std::int64_t> integer_field(const json& parameters, std::string_view key);
bool bool_field(const json& parameters, std::string_view key);

// One sentence for a person about a daemon error, with what the error's parameters tell.
std::string error_sentence(const CallResult& result);

void print_json(const json& value);
void print_line(std::string_view line);        // stdout
void print_error_line(std::string_view line);  // stderr, "twofactorctl: " first

// Reports a daemon error: {"error","parameters"} on stdout with --json, else the sentence on
// stderr. Returns the exit status for it.
int report_error(const CallResult& result, bool as_json);

// Overwrites every string inside a JSON value (requests and replies that carried a secret).
void wipe_json(json& value);

}  // namespace twofactor::ctl
