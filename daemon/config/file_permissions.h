// SPDX-License-Identifier: BSD-2-Clause
// Whom the daemon's files let change or read them. A configuration or secret file another user
// may change lets that user change what the daemon does (its Twilio account, its database, its
// limits): refused. One another user may read gives away the secret in it: a warning, or, for
// the database password (which opens every enrollment to whoever reaches the server), refused.
#pragma once

#include <string>

namespace twofactor {

// Throws ConfigError "PATH: ..." when a user other than root and the daemon's own user owns the
// file, or may write it (a world-writable file, or a group-writable one whose group is neither
// root's nor the daemon's). `what` names the file in the message ("configuration").
void refuse_if_others_may_change(const std::string& path, const char* what);

// Logs a warning when users other than root and the daemon's may read the file, which holds
// `secret` ("the Twilio auth token").
void warn_if_others_may_read(const std::string& path, const char* secret);

// Throws ConfigError "PATH: ..." when users other than root and the daemon's may read the file,
// which holds `secret` ("the database password").
void refuse_if_others_may_read(const std::string& path, const char* secret);

}  // namespace twofactor
