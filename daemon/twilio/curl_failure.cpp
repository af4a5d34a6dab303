// SPDX-License-Identifier: BSD-2-Clause
#include "daemon/twilio/curl_failure.h"

namespace twofactor {

bool is_transient_curl_error(CURLcode code) {
    switch (code) {
        case CURLE_COULDNT_RESOLVE_PROXY:
        case CURLE_COULDNT_RESOLVE_HOST:
        case CURLE_COULDNT_CONNECT:
        case CURLE_OPERATION_TIMEDOUT:
        case CURLE_SEND_ERROR:
        case CURLE_RECV_ERROR:
        case CURLE_GOT_NOTHING:
        case CURLE_PARTIAL_FILE:
        case CURLE_SSL_CONNECT_ERROR:
        case CURLE_HTTP2:
        case CURLE_HTTP2_STREAM:
        case CURLE_HTTP3:
        case CURLE_QUIC_CONNECT_ERROR:
            return true;
        default:
            return false;
    }
}

bool is_retryable_curl_failure(CURLcode code, bool request_sent) {
    return !request_sent && is_transient_curl_error(code);
}

std::string describe_curl_failure(CURLcode code, const char* detail,
                                  std::chrono::milliseconds attempt_timeout) {
    if (code == CURLE_OPERATION_TIMEDOUT) {
        return "Twilio did not answer within " + std::to_string(attempt_timeout.count()) + " ms";
    }
    std::string why = detail != nullptr && detail[0] != '\0' ? detail : curl_easy_strerror(code);
    if (code == CURLE_GOT_NOTHING) return "Twilio closed the connection without answering";
    if (code == CURLE_PEER_FAILED_VERIFICATION) {
        return "Twilio's TLS certificate could not be verified: " + why;
    }
    return "Could not reach Twilio: " + why;
}

}  // namespace twofactor
