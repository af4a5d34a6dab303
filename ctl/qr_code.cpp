// SPDX-License-Identifier: BSD-2-Clause
#include "ctl/qr_code.h"

#include <qrencode.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <stdexcept>

namespace twofactor::ctl {
namespace {

constexpr int kQuietZone = 2;

struct FreeQrCode {
    void operator()(QRcode* code) const { QRcode_free(code); }
};

// One character cell covers the module above and the one below it; each is dark or light.
const char* cell(bool upper_dark, bool lower_dark) {
    if (upper_dark && lower_dark) return " ";
    if (upper_dark) return "\u2584";  // lower half block: only the lower module is light
    if (lower_dark) return "\u2580";  // upper half block: only the upper module is light
    return "\u2588";                  // full block: both light
}

}  // namespace

std::vector<std::string> qr_code_lines(std::string_view text) {
    const std::string nul_terminated(text);
    // Byte mode keeps the URI's case; QR_ECLEVEL_L keeps the code small enough for a terminal.
    std::unique_ptr<QRcode, FreeQrCode> code(
        QRcode_encodeString(nul_terminated.c_str(), 0, QR_ECLEVEL_L, QR_MODE_8, 1));
    if (!code)
        throw std::runtime_error(std::string("cannot draw the QR code: ") + std::strerror(errno));

    const int width = code->width;
    auto dark = [&](int x, int y) {
        return x >= 0 && y >= 0 && x < width && y < width && (code->data[y * width + x] & 1) != 0;
    };
    std::vector<std::string> lines;
    for (int y = -kQuietZone; y < width + kQuietZone; y += 2) {
        std::string line;
        for (int x = -kQuietZone; x < width + kQuietZone; ++x)
            line += cell(dark(x, y), dark(x, y + 1));
        lines.push_back(std::move(line));
    }
    return lines;
}

}  // namespace twofactor::ctl
