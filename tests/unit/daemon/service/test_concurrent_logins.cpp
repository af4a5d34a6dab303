// SPDX-License-Identifier: BSD-2-Clause
// Texted Begins of different users on several workers at once: while one user's Begin waits on
// the store (a slow PostgreSQL), another user's goes through. A real Service over a SQLite store
// that a gate can hold for one user, called from two threads as the dispatcher's workers call it.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "common/protocol.h"
#include "common/totp.h"
#include "daemon/config/settings.h"
#include "daemon/keys/cipher.h"
#include "daemon/service/messenger.h"
#include "daemon/service/service.h"
#include "daemon/store/sqlite/sqlite_store.h"
#include "tests/unit/test_support.h"  // last: brings in cmocka

using namespace twofactor;
using protocol::json;
using namespace std::chrono_literals;

namespace {

const std::string kSecret = "8MJJfCY4ERBtotvenSc3";

// Every call goes to one SQLite store, one at a time (SQLite's connection is single-threaded),
// except that a call looking up a used step of the held user waits at the gate first, outside
// that lock: the user's Begin stands in the store as on a slow database.
class GatedStore final : public Store {
    // First: the forwarding calls below use its deduced type.
    template <typename F>
    auto run(F f) const {
        std::lock_guard lock(store_mutex_);
        return f();
    }

public:
    GatedStore(const std::string& path, const Cipher& cipher) : inner_(path, cipher) {}

    void hold(const std::string& user) {
        std::lock_guard lock(gate_mutex_);
        held_ = user;
    }
    void release() {
        std::lock_guard lock(gate_mutex_);
        held_.clear();
        gate_.notify_all();
    }
    // Whether the held user's call reached the gate within `limit`.
    bool wait_until_waiting(std::chrono::milliseconds limit) {
        std::unique_lock lock(gate_mutex_);
        return gate_.wait_for(lock, limit, [this] { return waiting_ > 0; });
    }

    void put_enrollment(const Enrollment& e) override {
        run([&] { inner_.put_enrollment(e); });
    }
    void enable(const Enrollment& e, std::uint64_t step) override {
        run([&] { inner_.enable(e, step); });
    }
    std::optional<Enrollment> get_enrollment(const std::string& u) const override {
        return run([&] { return inner_.get_enrollment(u); });
    }
    bool remove_enrollment(const std::string& u) override {
        return run([&] { return inner_.remove_enrollment(u); });
    }
    std::int64_t count_enrollments() const override {
        return run([&] { return inner_.count_enrollments(); });
    }
    bool use_step(const std::string& u, std::uint64_t s) override {
        return run([&] { return inner_.use_step(u, s); });
    }
    bool step_used(const std::string& u, std::uint64_t s) override {
        wait_at_gate(u);
        return run([&] { return inner_.step_used(u, s); });
    }
    void prune_steps(std::uint64_t b) override {
        run([&] { inner_.prune_steps(b); });
    }
    FailureState get_failures(const std::string& u) override {
        return run([&] { return inner_.get_failures(u); });
    }
    void put_failures(const std::string& u, const FailureState& f) override {
        run([&] { inner_.put_failures(u, f); });
    }
    FailureState add_failure(const std::string& u, std::int64_t n,
                             const LockoutPolicy& p) override {
        return run([&] { return inner_.add_failure(u, n, p); });
    }
    void put_challenge(const Challenge& c) override {
        run([&] { inner_.put_challenge(c); });
    }
    std::optional<Challenge> get_challenge(const std::string& id) override {
        return run([&] { return inner_.get_challenge(id); });
    }
    std::vector<Challenge> challenges_of(const std::string& u) override {
        return run([&] { return inner_.challenges_of(u); });
    }
    bool delete_challenge(const std::string& id) override {
        return run([&] { return inner_.delete_challenge(id); });
    }
    void delete_challenges_of(const std::string& u) override {
        run([&] { inner_.delete_challenges_of(u); });
    }
    void expire_challenges(std::int64_t n) override {
        run([&] { inner_.expire_challenges(n); });
    }
    std::optional<int> spend_attempt(const std::string& id) override {
        return run([&] { return inner_.spend_attempt(id); });
    }
    std::optional<int> spend_resend(const std::string& id) override {
        return run([&] { return inner_.spend_resend(id); });
    }
    void set_texted_step(const std::string& id, std::optional<std::uint64_t> s) override {
        run([&] { inner_.set_texted_step(id, s); });
    }
    std::int64_t count_challenges() override {
        return run([&] { return inner_.count_challenges(); });
    }
    void put_trust(const Trust& t) override {
        run([&] { inner_.put_trust(t); });
    }
    std::optional<Trust> get_trust(const std::string& u, const std::string& s, const std::string& o,
                                   const std::string& h) override {
        return run([&] { return inner_.get_trust(u, s, o, h); });
    }
    std::vector<Trust> trusts_of(const std::string& u) override {
        return run([&] { return inner_.trusts_of(u); });
    }
    std::int64_t forget_trusts(const std::string& u) override {
        return run([&] { return inner_.forget_trusts(u); });
    }
    void expire_trusts(std::int64_t n) override {
        run([&] { inner_.expire_trusts(n); });
    }
    void replace_recovery_codes(const std::string& u, const RecoveryCodeSet& s) override {
        run([&] { inner_.replace_recovery_codes(u, s); });
    }
    std::optional<std::string> recovery_salt(const std::string& u) override {
        return run([&] { return inner_.recovery_salt(u); });
    }
    bool use_recovery_code(const std::string& u, const std::string& h) override {
        return run([&] { return inner_.use_recovery_code(u, h); });
    }
    void put_stored_recovery_codes(const std::string& u, const RecoveryCodeSet& s) override {
        run([&] { inner_.put_stored_recovery_codes(u, s); });
    }
    int count_recovery_codes(const std::string& u) override {
        return run([&] { return inner_.count_recovery_codes(u); });
    }
    std::vector<std::string> enrolled_users() const override {
        return run([&] { return inner_.enrolled_users(); });
    }
    std::vector<std::pair<std::string, std::uint64_t>> used_steps() const override {
        return run([&] { return inner_.used_steps(); });
    }
    std::vector<std::pair<std::string, FailureState>> all_failures() const override {
        return run([&] { return inner_.all_failures(); });
    }
    std::vector<std::pair<std::string, RecoveryCodeSet>> all_recovery_codes() const override {
        return run([&] { return inner_.all_recovery_codes(); });
    }
    std::vector<Trust> all_trusts() const override {
        return run([&] { return inner_.all_trusts(); });
    }
    void record_event(const std::string& k, std::int64_t a) override {
        run([&] { inner_.record_event(k, a); });
    }
    WindowCount count_events(const std::string& k, std::int64_t s) override {
        return run([&] { return inner_.count_events(k, s); });
    }
    std::int64_t take_event(const std::string& k, std::int64_t s, int l, std::int64_t n) override {
        return run([&] { return inner_.take_event(k, s, l, n); });
    }
    void prune_events(std::int64_t b) override {
        run([&] { inner_.prune_events(b); });
    }
    std::vector<std::pair<std::string, std::int64_t>> busiest_events(const std::string& p,
                                                                     std::int64_t s,
                                                                     int l) override {
        return run([&] { return inner_.busiest_events(p, s, l); });
    }
    std::optional<std::string> get_metadata(const std::string& n) const override {
        return run([&] { return inner_.get_metadata(n); });
    }
    void put_metadata(const std::string& n, const std::string& v) override {
        run([&] { inner_.put_metadata(n, v); });
    }
    std::optional<bool> sample_enrollment_opens() const override {
        return run([&] { return inner_.sample_enrollment_opens(); });
    }

private:
    void wait_at_gate(const std::string& user) {
        std::unique_lock lock(gate_mutex_);
        if (user != held_) return;
        ++waiting_;
        gate_.notify_all();
        gate_.wait_for(lock, 20s, [&] { return held_ != user; });  // bounded
        --waiting_;
    }

    SqliteStore inner_;
    mutable std::mutex store_mutex_;
    std::mutex gate_mutex_;
    std::condition_variable gate_;
    std::string held_;
    int waiting_ = 0;
};

// Twilio takes every text at once.
class AcceptingMessenger : public Messenger {
public:
    void send(const std::string&, SecureString body, TextOptions, Callback done) override {
        {
            std::lock_guard lock(mutex);
            codes.push_back(std::string(body.view().substr(body.view().size() - 6)));
        }
        ++texts;
        SmsResult result;
        result.accepted = true;
        result.http_status = 201;
        done(result);
    }
    void call(const std::string&, SecureString, TextOptions, Callback) override {
        fail_msg("no call expected");
    }
    void start_verification(const std::string&, const std::string&, TextOptions,
                            Callback) override {
        fail_msg("no verification expected");
    }
    void check_verification(const std::string&, SecureString, Callback) override {
        fail_msg("no verification expected");
    }
    std::atomic<int> texts{0};
    std::mutex mutex;
    std::vector<std::string> codes;
};

std::array<unsigned char, kKeyBytes> test_key() {
    std::array<unsigned char, kKeyBytes> key{};
    for (std::size_t i = 0; i < key.size(); ++i) key[i] = static_cast<unsigned char>(3 + i);
    return key;
}

// A Begin from its own thread, as a worker runs it; `answered` once the service responded.
struct BeginCall {
    std::mutex mutex;
    std::condition_variable done;
    std::optional<json> answer;
    std::thread thread;

    BeginCall(Service& service, const std::string& user) {
        thread = std::thread([this, &service, user] {
            service.handle(Caller{0, ""},
                           protocol::Request{protocol::method::Begin, {{"user", user}}},
                           [this](json message) {
                               std::lock_guard lock(mutex);
                               answer = std::move(message);
                               done.notify_all();
                           });
        });
    }
    bool answered_within(std::chrono::milliseconds limit) {
        std::unique_lock lock(mutex);
        return done.wait_for(lock, limit, [this] { return answer.has_value(); });
    }
    ~BeginCall() {
        if (thread.joinable()) thread.join();
    }
};

struct Fixture {
    test::TempDir dir;
    Cipher cipher{test_key()};
    GatedStore store{dir.file("twofactord.db"), cipher};
    Settings settings;
    AcceptingMessenger messenger;
    static constexpr std::int64_t kNow = 1'800'000'010;
    Service service{settings, store, messenger, [] { return kNow; }};

    Fixture() {
        settings.sms.message = "Your code is {code}";
        for (const char* user : {"alice", "bob"}) {
            Enrollment e;
            e.user = user;
            e.secret = SecureString(std::string(kSecret));
            e.mobile_phone = "+15555550123";
            e.enabled_at = kNow;
            store.put_enrollment(e);
        }
    }
};

void a_begin_waiting_on_the_store_holds_up_no_other_user(void**) {
    Fixture f;
    f.store.hold("alice");
    BeginCall alice(f.service, "alice");
    assert_true(f.store.wait_until_waiting(10s));  // alice's Begin stands in the store
    BeginCall bob(f.service, "bob");
    const bool bob_answered = bob.answered_within(3s);
    const bool alice_answered_early = alice.answered_within(0ms);
    f.store.release();
    assert_true(alice.answered_within(20s));
    assert_true(bob.answered_within(20s));
    if (!bob_answered) print_error("bob's Begin waited for alice's store call\n");
    assert_true(bob_answered);
    assert_false(alice_answered_early);
    assert_false(alice.answer->contains("error"));
    assert_false(bob.answer->contains("error"));
    assert_int_equal(f.messenger.texts.load(), 2);
}

// Two Begins of one user at once: the second waits for the first's choice of step, and each
// gets a code of its own.
void begins_of_one_user_at_once_get_distinct_codes(void**) {
    Fixture f;
    f.store.hold("alice");
    BeginCall first(f.service, "alice");
    assert_true(f.store.wait_until_waiting(10s));
    BeginCall second(f.service, "alice");
    std::this_thread::sleep_for(200ms);  // the second reaches the user's lock meanwhile
    f.store.release();
    assert_true(first.answered_within(20s));
    assert_true(second.answered_within(20s));
    assert_false(first.answer->contains("error"));
    assert_false(second.answer->contains("error"));
    std::lock_guard lock(f.messenger.mutex);
    assert_int_equal(f.messenger.codes.size(), 2);
    assert_true(f.messenger.codes[0] != f.messenger.codes[1]);
}

}  // namespace

int main() {
    const CMUnitTest tests[] = {
        cmocka_unit_test(a_begin_waiting_on_the_store_holds_up_no_other_user),
        cmocka_unit_test(begins_of_one_user_at_once_get_distinct_codes),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
