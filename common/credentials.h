// SPDX-License-Identifier: BSD-2-Clause
// Secrets handed over in files: systemd credentials ($CREDENTIALS_DIRECTORY/NAME) and the
// *_file keys of the configuration. One reading for all of them, so a token, an API key secret
// and a database password are trimmed the same way wherever they come from.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace twofactor {

// The path of the systemd credential NAME when systemd passed it to this process, else nullopt.
std::optional<std::string> credential_path(std::string_view name);

// As credential_path, but a credential holding only blanks and line ends counts as not given:
// the unit's SetCredential= default for an optional file (systemd 252 cannot leave one out).
std::optional<std::string> given_credential_path(std::string_view name);

// The file's content without trailing line ends and blanks (an editor's final newline is no part
// of a token). nullopt, with errno set, when the file cannot be read.
std::optional<std::string> read_secret_text(const std::string& path);

}  // namespace twofactor
