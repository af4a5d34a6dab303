// SPDX-License-Identifier: BSD-2-Clause
#include "daemon/service/text_limits.h"

#include <algorithm>

namespace twofactor {

namespace {

constexpr const char* kTooManyTexts = "too many text messages; try again later";

std::string uid_key(uid_t uid) {
    return "uid:" + std::to_string(uid);
}

}  // namespace

TextLimits::TextLimits(const SmsSettings& sms, const LoginSettings& login)
    : code_lifetime_(login.challenge_lifetime),
      enroll_texts_(sms.enroll_texts_per_hour, 3600),
      number_texts_(sms.user_texts_per_hour, 3600),
      all_texts_(sms.texts_per_minute, 60),
      local_setup_texts_(std::max(1, sms.texts_per_minute / 2), 60),
      challenge_starts_(login.challenges_per_minute, 60) {}

std::int64_t TextLimits::take_login_start(const std::string& user, std::int64_t now) {
    std::lock_guard lock(mutex_);
    return challenge_starts_.take(user, now);
}

std::int64_t TextLimits::take_text(std::int64_t now) {
    std::lock_guard lock(mutex_);
    return all_texts_.take("", now);
}

void TextLimits::give_back_text(std::int64_t now) {
    std::lock_guard lock(mutex_);
    all_texts_.give_back("", now);
}

// Root's setup texts (an administrator enrolling many users) count against the number's and the
// machine's limits only, and against none that local users fill: root's texts to a number are
// counted apart from theirs, and local users together may use only half of the machine's
// minute.
std::optional<TextLimits::Refused> TextLimits::take_setup_text(uid_t uid, const std::string& phone,
                                                               std::int64_t now) {
    std::lock_guard lock(mutex_);
    const bool root = uid == 0;
    std::optional<Refused> refused;
    auto check = [&](SetupLimit limit, std::int64_t wait, const char* message) {
        if (!refused && wait > 0) refused = Refused{limit, wait, message};
    };
    if (!root) {
        check(SetupLimit::EnrollTexts, enroll_texts_.retry_after(uid_key(uid), now),
              "too many enrollment texts");
        check(SetupLimit::LocalMinute, local_setup_texts_.retry_after("", now), kTooManyTexts);
    }
    check(SetupLimit::Number, number_texts_.retry_after(number_key(uid, phone), now),
          "too many texts to this number");
    check(SetupLimit::Minute, all_texts_.retry_after("", now), kTooManyTexts);
    if (refused) return refused;
    number_texts_.record(number_key(uid, phone), now);
    all_texts_.record("", now);
    if (root) return std::nullopt;
    enroll_texts_.record(uid_key(uid), now);
    local_setup_texts_.record("", now);
    return std::nullopt;
}

void TextLimits::give_back_setup_text(uid_t uid, const std::string& phone, std::int64_t now) {
    std::lock_guard lock(mutex_);
    number_texts_.give_back(number_key(uid, phone), now);
    all_texts_.give_back("", now);
    if (uid == 0) return;
    enroll_texts_.give_back(uid_key(uid), now);
    local_setup_texts_.give_back("", now);
}

void TextLimits::remember_setup_code(const std::string& secret_digest, std::uint64_t step,
                                     std::int64_t now) {
    std::lock_guard lock(mutex_);
    auto& sent = setup_texts_[secret_digest];
    sent.emplace_back(step, now);
    if (sent.size() > 8) sent.erase(sent.begin());
}

std::vector<std::uint64_t> TextLimits::setup_steps(const std::string& secret_digest,
                                                   std::int64_t now) {
    std::lock_guard lock(mutex_);
    std::vector<std::uint64_t> steps;
    auto sent = setup_texts_.find(secret_digest);
    if (sent == setup_texts_.end()) return steps;
    for (const auto& [step, at] : sent->second)
        if (now - at < code_lifetime_) steps.push_back(step);
    return steps;
}

void TextLimits::sweep(std::int64_t now) {
    std::lock_guard lock(mutex_);
    enroll_texts_.sweep(now);
    number_texts_.sweep(now);
    all_texts_.sweep(now);
    local_setup_texts_.sweep(now);
    challenge_starts_.sweep(now);
    for (auto it = setup_texts_.begin(); it != setup_texts_.end();) {
        auto& sent = it->second;
        std::erase_if(sent, [&](const auto& s) { return now - s.second >= code_lifetime_; });
        it = sent.empty() ? setup_texts_.erase(it) : std::next(it);
    }
}

std::string TextLimits::number_key(uid_t uid, const std::string& phone) {
    return uid == 0 ? "root:" + phone : phone;
}

}  // namespace twofactor
