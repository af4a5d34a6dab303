// SPDX-License-Identifier: BSD-2-Clause
// What to tell the administrator when a request got no usable HTTP answer, and whether trying
// again could help.
#pragma once

#include <curl/curl.h>

#include <chrono>
#include <string>

namespace twofactor {

// Failures of the network or of the other end that may pass: refused or dropped connections,
// timeouts, name resolution, a connection closed without an answer. A failed certificate
// check, a refused URL or an answer we stopped reading are not among them.
bool is_transient_curl_error(CURLcode code);

// Whether to try again: only a transient failure that happened before any byte of the request
// went out (name resolution, connect, TLS handshake). Once Twilio may have read the request, a
// lost answer does not mean a lost text.
bool is_retryable_curl_failure(CURLcode code, bool request_sent);

// One sentence for SmsResult.message. `detail` is curl's error buffer (may be empty);
// `attempt_timeout` is the limit that applied if the attempt timed out.
std::string describe_curl_failure(CURLcode code, const char* detail,
                                  std::chrono::milliseconds attempt_timeout);

}  // namespace twofactor
