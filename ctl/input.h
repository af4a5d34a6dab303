// SPDX-License-Identifier: BSD-2-Clause
// What the person types: values read from standard input (`--secret -`, `--code -`) and answers to
// enroll's prompts. Lines are read byte by byte with read(2) so no stdio buffer keeps a copy.
#pragma once

#include <optional>
#include <string_view>

#include "common/secure.h"

namespace twofactor::ctl {

bool stdin_is_terminal();

// One line of standard input without its line end (and without a trailing '\r'); nullopt at
// end of input before any byte. Throws UsageError for a line over 1024 bytes.
std::optional<SecureString> read_stdin_line();

// Shows `prompt` on stderr when standard input is a terminal, then reads one line from it.
std::optional<SecureString> ask(std::string_view prompt);

// The value of an option that may be "-": the next line of standard input then. Throws
// UsageError when standard input ends first.
SecureString option_or_stdin(std::string_view value, std::string_view option);

}  // namespace twofactor::ctl
