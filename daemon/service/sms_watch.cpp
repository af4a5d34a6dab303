// SPDX-License-Identifier: BSD-2-Clause
#include "daemon/service/sms_watch.h"

namespace twofactor {

void SmsWatch::texted(const std::string& challenge_id, std::int64_t expires_at) {
    std::lock_guard lock(mutex_);
    texted_.push_back({challenge_id, expires_at, false});
    // Bounded: challenges still open at the back never push the judged ones out of a window,
    // as no more than kKept - kWindow are open at once on a host that texts at a sane rate.
    while (texted_.size() > kKept) texted_.pop_front();
}

void SmsWatch::completed(const std::string& challenge_id) {
    std::lock_guard lock(mutex_);
    for (auto it = texted_.rbegin(); it != texted_.rend(); ++it) {
        if (it->id != challenge_id) continue;
        it->completed = true;
        return;
    }
}

SmsWatch::Conversion SmsWatch::conversion_locked(std::int64_t now) const {
    Conversion c;
    // The newest challenges that are over: a challenge still open may yet be completed.
    for (auto it = texted_.rbegin(); it != texted_.rend() && c.judged < kWindow; ++it) {
        if (!it->completed && it->expires_at > now) continue;
        ++c.judged;
        if (it->completed) ++c.completed;
    }
    return c;
}

SmsWatch::Conversion SmsWatch::conversion(std::int64_t now) {
    std::lock_guard lock(mutex_);
    return conversion_locked(now);
}

std::optional<SmsWatch::Conversion> SmsWatch::alarm(std::int64_t now) {
    std::lock_guard lock(mutex_);
    const Conversion c = conversion_locked(now);
    if (c.judged < kWindow || c.completed * 100 >= kLowPercent * c.judged) return std::nullopt;
    if (last_alarm_ != 0 && now - last_alarm_ < kAlarmEvery) return std::nullopt;
    last_alarm_ = now;
    return c;
}

bool SmsWatch::country_known(const std::string& country) {
    std::lock_guard lock(mutex_);
    return countries_.count(country) > 0;
}

void SmsWatch::add_countries(const std::set<std::string>& countries, std::int64_t now) {
    std::lock_guard lock(mutex_);
    countries_.insert(countries.begin(), countries.end());
    if (now > 0) countries_read_at_ = now;
}

std::int64_t SmsWatch::countries_read_at() {
    std::lock_guard lock(mutex_);
    return countries_read_at_;
}

bool SmsWatch::journal_refusal(const std::string& key, std::int64_t now) {
    std::lock_guard lock(mutex_);
    refusal_lines_.sweep(now);
    return refusal_lines_.take(key, now) == 0;
}

}  // namespace twofactor
