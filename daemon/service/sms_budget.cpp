// SPDX-License-Identifier: BSD-2-Clause
// What texts may cost (DESIGN.md §16): the fleet's texts per day and per number prefix, counted
// in the store so that every host of a fleet takes from one budget; setup texts only to country
// codes already enrolled; and the conversion of texted logins, Twilio's sign of SMS pumping.
// A refusal is RateLimited: a login then goes on with the app's or a recovery code.
#include "common/phone.h"
#include "daemon/log/log.h"
#include "daemon/log/log_budget.h"
#include "daemon/service/params.h"
#include "daemon/service/service.h"
#include "daemon/store/rules.h"

namespace twofactor {

namespace err = protocol::error;
using protocol::json;

namespace {

constexpr std::int64_t kDay = 86400;
// How often the enrolled country codes are read again when a setup text names one not known.
constexpr std::int64_t kCountriesRereadEvery = 60;
constexpr const char* kDayKey = "budget:day";

std::string prefix_key(const std::string& prefix) {
    return "budget:prefix:" + prefix;
}

// The alarms are written whatever the caller's log budget (log_budget.h): a pump fills its own
// budget with the lines of the texts it got, and must not silence the line that names it. They
// are throttled by SmsWatch instead (once a minute per budget, once an hour for conversion).
void journal_alarm(std::string_view message, std::initializer_list<log::Field> fields) {
    log::CallerScope unbudgeted(0);  // root's scope: limits nothing
    log::warning(message, fields);
}

}  // namespace

std::string number_prefix(const std::string& e164) {
    return e164.size() > 4 ? e164.substr(0, e164.size() - 4) : e164;
}

std::int64_t Service::take_budget(const std::string& phone, std::int64_t now) {
    const auto& sms = settings_.sms;
    const std::string prefix = number_prefix(phone);
    // The prefix first: a pump refused at its prefix must not eat the day's budget of every
    // other number. A prefix text taken when the day then refuses stays counted.
    std::int64_t wait =
        store_.take_event(prefix_key(prefix), now - kDay, sms.texts_per_prefix_per_day, now);
    const char* budget = "prefix";
    if (wait == 0) {
        wait = store_.take_event(kDayKey, now - kDay, sms.texts_per_day, now);
        budget = "day";
    }
    if (wait == 0) return 0;
    if (watch_.journal_refusal(std::string(budget) + ":" + prefix, now))
        journal_alarm("text refused: the SMS budget is spent",
                      {{"event", "sms_budget"},
                       {"budget", budget},
                       {"prefix", prefix},
                       {"retry_after", std::to_string(wait)}});
    return wait;
}

void Service::check_setup_country(const std::string& phone, std::int64_t now) {
    const std::string country = country_code_of(phone);
    const auto& sms = settings_.sms;
    // [sms] allowed_country_codes, when set, is the list every number must be in
    // (normalize_number): setup texts may go to all of it.
    if (!sms.allowed_country_codes.empty() || country == sms.default_country_code ||
        watch_.country_known(country))
        return;
    // Read the enrolled numbers' country codes again (another host may have enrolled one),
    // at most once a minute: a pump to a new country costs one read, not one per text.
    if (now - watch_.countries_read_at() >= kCountriesRereadEvery) {
        std::set<std::string> countries;
        for (const std::string& user : store_.enrolled_users())
            if (auto e = store_.get_enrollment(user); e && !e->mobile_phone.empty())
                countries.insert(country_code_of(e->mobile_phone));
        watch_.add_countries(countries, now);
        if (countries.count(country)) return;
    }
    if (watch_.journal_refusal("country:" + country, now))
        journal_alarm("setup text refused: no number of this country code is enrolled",
                      {{"event", "sms_budget"}, {"budget", "country"}, {"country", country}});
    throw params::invalid("mobilePhone",
                          "setup texts go only to the country codes of enrolled numbers, "
                          "[sms] default_country_code and allowed_country_codes; +" +
                              country + " is none of them");
}

void Service::note_enrolled_country(const std::string& phone) {
    if (!phone.empty()) watch_.add_countries({country_code_of(phone)}, 0);
}

void Service::watch_conversion(std::int64_t now) {
    auto low = watch_.alarm(now);
    if (!low) return;
    journal_alarm("few texted codes are used: possible SMS pumping",
                  {{"event", "sms_conversion_low"},
                   {"completed", std::to_string(low->completed)},
                   {"texted", std::to_string(low->judged)}});
}

json Service::sms_report(std::int64_t now) {
    const auto& sms = settings_.sms;
    const WindowCount day = store_.count_events(kDayKey, now - kDay);
    const auto conversion = watch_.conversion(now);
    json prefixes = json::array();
    for (const auto& [key, count] : store_.busiest_events("budget:prefix:", now - kDay, 5))
        prefixes.push_back({{"prefix", key.substr(std::string("budget:prefix:").size())},
                            {"sent", count},
                            {"limit", sms.texts_per_prefix_per_day}});
    return {{"textsToday", {{"sent", day.count}, {"limit", sms.texts_per_day}}},
            {"busiestPrefixes", std::move(prefixes)},
            {"conversion",
             {{"judged", conversion.judged},
              {"completed", conversion.completed},
              {"percent", conversion.judged ? json(conversion.completed * 100 / conversion.judged)
                                            : json()}}}};
}

}  // namespace twofactor
