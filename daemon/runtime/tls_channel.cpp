// SPDX-License-Identifier: BSD-2-Clause
#include "daemon/runtime/tls_channel.h"

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <cctype>

namespace twofactor {

TlsChannel::~TlsChannel() {
    ERR_clear_error();
    SSL_shutdown(ssl_);  // one close_notify, not waited for
    SSL_free(ssl_);
    ERR_clear_error();
}

ssize_t TlsChannel::receive(char* buffer, std::size_t size) {
    ERR_clear_error();
    const int n = SSL_read(ssl_, buffer, static_cast<int>(std::min<std::size_t>(size, 1 << 30)));
    if (n > 0) return n;
    const int error = SSL_get_error(ssl_, n);
    if (error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE) return 0;
    return -1;
}

ssize_t TlsChannel::transmit(const char* buffer, std::size_t size) {
    ERR_clear_error();
    const int n = SSL_write(ssl_, buffer, static_cast<int>(std::min<std::size_t>(size, 1 << 30)));
    if (n > 0) return n;
    const int error = SSL_get_error(ssl_, n);
    if (error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE) return 0;
    return -1;
}

std::string certificate_host_name(X509* certificate) {
    std::string name;
    if (certificate == nullptr) return name;
    auto* names = static_cast<GENERAL_NAMES*>(
        X509_get_ext_d2i(certificate, NID_subject_alt_name, nullptr, nullptr));
    if (names != nullptr) {
        for (int i = 0; i < sk_GENERAL_NAME_num(names) && name.empty(); ++i) {
            const GENERAL_NAME* entry = sk_GENERAL_NAME_value(names, i);
            if (entry->type != GEN_DNS) continue;
            const ASN1_IA5STRING* dns = entry->d.dNSName;
            name.assign(reinterpret_cast<const char*>(ASN1_STRING_get0_data(dns)),
                        static_cast<std::size_t>(ASN1_STRING_length(dns)));
        }
        GENERAL_NAMES_free(names);
    }
    if (name.empty()) {
        char common[256] = {};
        const int n = X509_NAME_get_text_by_NID(X509_get_subject_name(certificate), NID_commonName,
                                                common, sizeof(common));
        if (n > 0) name.assign(common, static_cast<std::size_t>(n));
    }
    // A name with a NUL or a blank in it matches no line of the hosts file.
    if (name.find_first_of(std::string("\0 \t\r\n", 5)) != std::string::npos) return {};
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return name;
}

std::string tls_errors() {
    std::string text;
    while (unsigned long code = ERR_get_error()) {
        char line[256];
        ERR_error_string_n(code, line, sizeof(line));
        if (!text.empty()) text += "; ";
        text += line;
    }
    return text.empty() ? "no detail from OpenSSL" : text;
}

}  // namespace twofactor
