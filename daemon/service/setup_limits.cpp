// SPDX-License-Identifier: BSD-2-Clause
// The limits on setup texts (SendCode with a number and a secret, while enrolling).
#include "daemon/service/service.h"

namespace twofactor {

namespace err = protocol::error;

// Root's setup texts (an administrator enrolling many users) count against the number's and the
// machine's limits only, and against none that local users fill: root's texts to a number are
// counted apart from theirs, and local users together may use only half of the machine's
// minute.
void Service::check_setup_text_limits(const Caller& caller, const std::string& phone,
                                      std::int64_t now) {
    auto refuse = [](std::int64_t wait, const char* message) {
        if (wait > 0) throw Refusal{err::RateLimited, {{"retryAfter", wait}, {"message", message}}};
    };
    const std::string uid_key = "uid:" + std::to_string(caller.uid);
    if (!caller.is_root()) {
        refuse(enroll_texts_.retry_after(uid_key, now), "too many enrollment texts");
        refuse(user_text_wait(uid_key, now), "too many text messages; try again later");
        refuse(local_setup_texts_.retry_after("", now), "too many text messages; try again later");
    }
    refuse(number_texts_.retry_after(number_key(caller, phone), now),
           "too many texts to this number");
    refuse(all_texts_.retry_after("", now), "too many text messages; try again later");
}

void Service::record_setup_text(const Caller& caller, const std::string& phone, std::int64_t now) {
    number_texts_.record(number_key(caller, phone), now);
    all_texts_.record("", now);
    if (caller.is_root()) return;
    const std::string uid_key = "uid:" + std::to_string(caller.uid);
    enroll_texts_.record(uid_key, now);
    store_.record_event("text:" + uid_key, now);
    local_setup_texts_.record("", now);
}

std::string Service::number_key(const Caller& caller, const std::string& phone) {
    return caller.is_root() ? "root:" + phone : phone;
}

}  // namespace twofactor
