// SPDX-License-Identifier: BSD-2-Clause
// The table of outcomes as built and as documented in pam_twofactor(8): every outcome has a row
// with the same name, sentence and PAM code, and the codes the man page promises are the ones used.
#include <security/_pam_types.h>

#include <cstdlib>
#include <ctime>
#include <fstream>
#include <map>
#include <string>

#include "pam/outcomes.h"

#include <csetjmp>
#include <cstdarg>
#include <cstddef>
#include <cstdint>
extern "C" {
#include <cmocka.h>
}

using twofactor::pam::describe;
using twofactor::pam::Outcome;

namespace {

struct Row {
    std::string sentence;
    std::string code;
};

std::string cell(const std::string& text) {
    std::string out;
    for (char c : text)
        if (c != '`') out += c;
    const auto first = out.find_first_not_of(' ');
    const auto last = out.find_last_not_of(' ');
    return first == std::string::npos ? "" : out.substr(first, last - first + 1);
}

// The rows of the table under "# RESULTS": | outcome | the user reads | PAM code |
std::map<std::string, Row> documented_rows() {
    std::ifstream page(MAN_PAGE_PATH);
    if (!page) fail_msg("cannot read %s", MAN_PAGE_PATH);
    std::map<std::string, Row> rows;
    std::string line;
    bool in_results = false;
    while (std::getline(page, line)) {
        if (line.rfind("# ", 0) == 0) in_results = line == "# RESULTS";
        if (!in_results || line.rfind("| ", 0) != 0) continue;
        std::string cells[3];
        std::size_t at = 1;
        for (auto& c : cells) {
            const auto bar = line.find('|', at);
            if (bar == std::string::npos) break;
            c = cell(line.substr(at, bar - at));
            at = bar + 1;
        }
        rows[cells[0]] = {cells[1], cells[2]};
    }
    return rows;
}

// Sentences with values, written with the placeholders the man page uses.
std::string documented_form(Outcome outcome) {
    twofactor::pam::OutcomeDetails details;
    details.locked_until = 1893499200;  // 2030-01-01 12:00 UTC
    details.retry_after = 600;
    std::string text = twofactor::pam::sentence(outcome, details);
    for (auto [value, placeholder] :
         {std::pair{"2030-01-01 12:00 UTC", "TIME"}, std::pair{"10 minutes", "N minutes"}}) {
        const auto at = text.find(value);
        if (at != std::string::npos) text.replace(at, std::string(value).size(), placeholder);
    }
    return text.empty() ? "(nothing)" : text;
}

void test_every_outcome_is_documented(void**) {
    const auto rows = documented_rows();
    assert_int_equal(rows.size(), twofactor::pam::all_outcomes().size() + 1);  // + header row
    for (const auto& entry : twofactor::pam::all_outcomes()) {
        const auto row = rows.find(entry.name);
        if (row == rows.end()) fail_msg("no row for '%s' in the man page", entry.name);
        if (row->second.code != twofactor::pam::pam_code_name(entry.pam_code))
            fail_msg("'%s': documented %s, built %s", entry.name, row->second.code.c_str(),
                     twofactor::pam::pam_code_name(entry.pam_code));
        const std::string built = documented_form(entry.outcome);
        if (row->second.sentence != built)
            fail_msg("'%s': documented \"%s\", built \"%s\"", entry.name,
                     row->second.sentence.c_str(), built.c_str());
    }
}

void test_codes_the_contract_fixes(void**) {
    assert_int_equal(describe(Outcome::Success).pam_code, PAM_SUCCESS);
    assert_int_equal(describe(Outcome::Trusted).pam_code, PAM_SUCCESS);
    assert_int_equal(describe(Outcome::NotEnrolledIgnored).pam_code, PAM_IGNORE);
    assert_int_equal(describe(Outcome::OutsideGroups).pam_code, PAM_IGNORE);
    assert_int_equal(describe(Outcome::Unreachable).pam_code, PAM_AUTHINFO_UNAVAIL);
    assert_int_equal(describe(Outcome::UnreachableLetIn).pam_code, PAM_SUCCESS);
    // A failure is never reported as success or as "ignore me".
    for (const auto& entry : twofactor::pam::all_outcomes()) {
        if (entry.outcome == Outcome::Success || entry.outcome == Outcome::Trusted ||
            entry.outcome == Outcome::UnreachableLetIn ||
            entry.outcome == Outcome::NotEnrolledIgnored || entry.outcome == Outcome::OutsideGroups)
            continue;
        assert_int_not_equal(entry.pam_code, PAM_SUCCESS);
        assert_int_not_equal(entry.pam_code, PAM_IGNORE);
    }
}

void test_failures_say_something(void**) {
    for (const auto& entry : twofactor::pam::all_outcomes()) {
        const bool quiet = entry.outcome == Outcome::Success || entry.outcome == Outcome::Trusted ||
                           entry.outcome == Outcome::NotEnrolledIgnored ||
                           entry.outcome == Outcome::OutsideGroups ||
                           entry.outcome == Outcome::ConversationFailed;
        assert_int_equal(twofactor::pam::sentence(entry.outcome).empty(), quiet);
    }
}

void test_sentences_with_values(void**) {
    twofactor::pam::OutcomeDetails details;
    assert_string_equal(twofactor::pam::sentence(Outcome::Locked, details).c_str(),
                        "Your account is locked after too many wrong codes.");
    details.locked_until = 1893499200;
    assert_string_equal(twofactor::pam::sentence(Outcome::Locked, details).c_str(),
                        "Your account is locked after too many wrong codes until 2030-01-01 "
                        "12:00 UTC.");
    details.retry_after = 45;
    assert_string_equal(twofactor::pam::sentence(Outcome::RateLimited, details).c_str(),
                        "Too many codes were sent to you; please try again in 45 seconds.");
    details.retry_after = 3601;
    assert_string_equal(twofactor::pam::sentence(Outcome::RateLimited, details).c_str(),
                        "Too many codes were sent to you; please try again in 61 minutes.");
}

void test_code_names(void**) {
    assert_string_equal(twofactor::pam::pam_code_name(PAM_MAXTRIES), "PAM_MAXTRIES");
    assert_string_equal(twofactor::pam::pam_code_name(PAM_AUTHINFO_UNAVAIL),
                        "PAM_AUTHINFO_UNAVAIL");
    assert_string_equal(twofactor::pam::pam_code_name(9999), "PAM_UNKNOWN_CODE");
}

}  // namespace

int main() {
    setenv("TZ", "UTC", 1);
    tzset();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_outcome_is_documented),
        cmocka_unit_test(test_codes_the_contract_fixes),
        cmocka_unit_test(test_failures_say_something),
        cmocka_unit_test(test_sentences_with_values),
        cmocka_unit_test(test_code_names),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
