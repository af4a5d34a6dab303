// SPDX-License-Identifier: BSD-2-Clause
#include "daemon/twilio/twiml.h"

namespace twofactor {
namespace {

// "1, 2, 3, 4, 5, 6.": commas make the speech engine read digits one by one, with a short
// pause after each, rather than a number ("one hundred twenty-three thousand...").
std::string digit_by_digit(std::string_view code) {
    std::string spoken;
    spoken.reserve(3 * code.size() + 1);
    for (char c : code) {
        if (!spoken.empty()) spoken += ", ";
        spoken += c;
    }
    return spoken + ".";
}

}  // namespace

std::string xml_escape(std::string_view text) {
    std::string out;
    out.reserve(6 * text.size());
    for (char c : text) {
        switch (c) {
            case '&':
                out += "&amp;";
                break;
            case '<':
                out += "&lt;";
                break;
            case '>':
                out += "&gt;";
                break;
            case '"':
                out += "&quot;";
                break;
            case '\'':
                out += "&apos;";
                break;
            default:
                out += c;
        }
    }
    return out;
}

SecureString code_reading_twiml(std::string_view intro, std::string_view code) {
    std::string spoken = digit_by_digit(code);
    std::string said = xml_escape(spoken);
    wipe(spoken);
    std::string twiml;
    // Reserved once: no reallocation leaves a copy of the code behind in freed memory.
    twiml.reserve(128 + 6 * intro.size() + 2 * said.size());
    twiml.append("<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response>");
    twiml.append("<Say>").append(xml_escape(intro)).append("</Say>");
    twiml.append("<Say>").append(said).append("</Say>");
    twiml.append("<Pause length=\"1\"/>");
    twiml.append("<Say>Again: ").append(said).append("</Say>");
    twiml.append("</Response>");
    wipe(said);
    return SecureString(std::move(twiml));
}

}  // namespace twofactor
