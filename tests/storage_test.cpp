// One storage suite, run against SQLite and PostgreSQL (MENTORFLOW_TEST_PG,
// set by `make test`). With CI=true a PostgreSQL test that cannot run fails.
#include "storage/store.h"

#include <gtest/gtest.h>
#include <soci/postgresql/soci-postgresql.h>
#include <soci/soci.h>
#include <soci/sqlite3/soci-sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <nlohmann/json.hpp>
#include <random>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <thread>

#include "tests/test_support.h"

namespace mentorflow {
namespace {

Now At(const char* day) { return Now::At(*ParseLocalTime(day, ""), ""); }

std::string Env(const char* n) {
  const char* v = std::getenv(n);
  return v ? v : "";
}

class StorageTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    std::string name = ::testing::UnitTest::GetInstance()->current_test_info()->name();
    for (auto& c : name) c = std::isalnum(static_cast<unsigned char>(c)) ? std::tolower(c) : '_';
    name = "mf_" + name.substr(0, 40) + "_" + std::to_string(getpid());
    if (GetParam() == "sqlite") {
      path_ = ::testing::TempDir() + "/" + name + ".db";
      for (const char* ext : {"", "-wal", "-shm"}) std::filesystem::remove(path_ + ext);
      url_ = "sqlite:" + path_;
    } else {
      std::string admin = Env("MENTORFLOW_TEST_PG");
      if (admin.empty()) {
        if (Env("CI") == "true") FAIL() << "CI=true but MENTORFLOW_TEST_PG is not set: PostgreSQL tests must run";
        GTEST_SKIP() << "MENTORFLOW_TEST_PG not set (make test starts a PostgreSQL)";
      }
      soci::session s(soci::postgresql, PostgresConnectionString(admin));
      s << "DROP DATABASE IF EXISTS " + name;
      s << "CREATE DATABASE " + name;
      url_ = admin.substr(0, admin.rfind('/') + 1) + name;
    }
    Status st;
    store_ = Store::Open(url_, &st);
    ASSERT_TRUE(store_) << st.message();
    ASSERT_TRUE(store_->Init(testing::Shipped(), At("2026-09-01"), nullptr).ok());
    for (const PersonRecord& p : {PersonRecord{"d1", "Директор", {"director"}, "", ""},
                                  PersonRecord{"c1", "Куратор", {"curator"}, "", ""},
                                  PersonRecord{"m1", "Наставник", {"mentor"}, "", ""},
                                  PersonRecord{"g1", "Законный представитель", {"guardian"}, "", ""},
                                  PersonRecord{"s1", "Наставляемый", {"mentee"}, "2012-05-01", "g1"}})
      ASSERT_TRUE(store_->AddPerson(p, At("2026-09-01")).ok());
    ASSERT_TRUE(store_->SetConsent("m1", true, "m1", At("2026-09-01")).ok());
    ASSERT_TRUE(store_->SetConsent("s1", true, "g1", At("2026-09-01")).ok());  // a minor: the guardian signs
  }

  std::string StartPair() {
    InstanceRecord rec;
    Refusal r;
    auto st = store_->Start("mentoring_pair", {{"mentor", "m1"}, {"mentee", "s1"}, {"form", "virtual"}, {"kind", "volunteer_pupil"}},
                            "", "c1", At("2026-09-01"), &rec, &r);
    EXPECT_TRUE(st.ok()) << st.message();
    return rec.id;
  }

  // Every row of every table, in a fixed order: "the database is the same".
  std::string Dump() {
    soci::session s = GetParam() == "sqlite" ? soci::session(soci::sqlite3, "db=" + path_)
                                             : soci::session(soci::postgresql, PostgresConnectionString(url_));
    std::string out;
    for (const char* t : {"schema_version", "workflow_definitions", "people", "person_roles", "person_data", "counters",
                          "instances", "history", "timers", "outbox", "documents"}) {
      soci::rowset<soci::row> rs = (s.prepare << std::string("SELECT * FROM ") + t);
      out += std::string("## ") + t + "\n";
      std::vector<std::string> lines;
      for (const auto& row : rs) {
        std::string out;
        for (size_t i = 0; i < row.size(); ++i) {
          if (row.get_indicator(i) == soci::i_null) out += "NULL|";
          else if (row.get_properties(i).get_data_type() == soci::dt_string) out += row.get<std::string>(i) + "|";
          else if (row.get_properties(i).get_data_type() == soci::dt_integer) out += std::to_string(row.get<int>(i)) + "|";
          else if (row.get_properties(i).get_data_type() == soci::dt_long_long) out += std::to_string(row.get<long long>(i)) + "|";
          else out += "?|";
        }
        lines.push_back(out);
      }
      std::sort(lines.begin(), lines.end());
      for (const auto& l : lines) out += l + "\n";
    }
    return out;
  }

  std::string path_, url_;
  std::unique_ptr<Store> store_;
};

TEST_P(StorageTest, Lifecycle_PairMovesThroughItsLifeAndKeepsHistory) {
  std::string id = StartPair();
  InstanceRecord rec;
  Refusal r;
  ASSERT_TRUE(store_->Send(id, "submit", {}, "c1", At("2026-09-02"), &rec, &r).ok());
  EXPECT_EQ(rec.state, "documents");
  EXPECT_EQ(store_->Send(id, "ready", {}, "c1", At("2026-09-02"), &rec, &r).code(), Code::kRefused);
  EXPECT_EQ(r.rule, "condition");
  std::string doc_status;
  ASSERT_TRUE(store_->Sign(id, "agreement", "m1", &doc_status).ok());
  EXPECT_EQ(doc_status, "issued");
  ASSERT_TRUE(store_->Sign(id, "agreement", "s1", &doc_status).ok());
  EXPECT_EQ(doc_status, "signed");
  ASSERT_TRUE(store_->Send(id, "ready", {}, "c1", At("2026-09-03"), &rec, &r).ok());
  ASSERT_TRUE(store_->Sign(id, "order", "d1", &doc_status).ok());
  ASSERT_TRUE(store_->Send(id, "approve", {}, "d1", At("2026-09-10"), &rec, &r).ok());
  EXPECT_EQ(rec.state, "active");
  EXPECT_NE(rec.fields_json.find("\"ends_on\":\"2027-06-10\""), std::string::npos) << rec.fields_json;
  ASSERT_TRUE(store_->Send(id, "terminate_by_mentor", {{"termination_reason", "переезд"}}, "m1", At("2026-10-01"), &rec, &r).ok());
  std::vector<HistoryRecord> h;
  ASSERT_TRUE(store_->History(id, &h).ok());
  ASSERT_EQ(h.size(), 5u);
  EXPECT_EQ(h[0].event, "start");
  EXPECT_EQ(h[4].event, "terminate_by_mentor");
  EXPECT_EQ(h[4].role, "mentor");
  EXPECT_NE(h[4].changes_json.find("переезд"), std::string::npos);
  std::vector<InstanceRecord> all;
  ASSERT_TRUE(store_->List("mentoring_pair", "terminated", &all).ok());
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].id, id);
}

TEST_P(StorageTest, Refusal_BadInputChangesNothing) {
  std::string id = StartPair();
  const std::string before = Dump();
  InstanceRecord rec;
  Refusal r;
  EXPECT_EQ(store_->Send("999", "submit", {}, "c1", At("2026-09-02"), &rec, &r).code(), Code::kNotFound);
  EXPECT_EQ(store_->Send(id, "no_such_event", {}, "c1", At("2026-09-02"), &rec, &r).code(), Code::kBadInput);
  EXPECT_EQ(store_->Send(id, "submit", {}, "m1", At("2026-09-02"), &rec, &r).code(), Code::kRefused);
  EXPECT_EQ(store_->Send(id, "approve", {}, "d1", At("2026-09-02"), &rec, &r).code(), Code::kRefused);
  EXPECT_EQ(store_->Start("mentoring_pair", {{"mentor", "m1"}, {"mentee", "s1"}, {"form", "virtual"}, {"kind", "x"}}, "",
                          "c1", At("2026-09-02"), &rec, &r).code(),
            Code::kBadInput);
  EXPECT_EQ(store_->Start("mentoring_pair", {{"months", "nine"}}, "", "c1", At("2026-09-02"), &rec, &r).code(),
            Code::kBadInput);
  EXPECT_EQ(store_->Sign(id, "order", "d1", nullptr).code(), Code::kNotFound);  // not issued yet
  EXPECT_EQ(store_->AddPerson({"c1", "dup", {"curator"}, "", ""}, At("2026-09-02")).code(), Code::kConflict);
  EXPECT_EQ(store_->AddPerson({"x1", "x", {"mentee"}, "2012-02-30", ""}, At("2026-09-02")).code(), Code::kBadInput);
  EXPECT_EQ(store_->SetConsent("nobody", true, "c1", At("2026-09-02")).code(), Code::kNotFound);
  EXPECT_EQ(store_->SetConsent("s1", false, "m1", At("2026-09-02")).code(), Code::kRefused);  // not theirs to revoke
  EXPECT_EQ(Dump(), before);
}

TEST_P(StorageTest, Consent_AMinorsConsentIsGivenByTheGuardian) {
  ASSERT_TRUE(store_->AddPerson({"g9", "Мама", {"guardian"}, "", ""}, At("2026-09-01")).ok());
  ASSERT_TRUE(store_->AddPerson({"s9", "Ребёнок", {"mentee"}, "2014-01-10", "g9"}, At("2026-09-01")).ok());
  ASSERT_TRUE(store_->AddPerson({"s8", "Сирота в базе", {"mentee"}, "2014-01-10", ""}, At("2026-09-01")).ok());
  ASSERT_TRUE(store_->AddPerson({"a1", "Взрослый", {"mentee"}, "2000-01-10", ""}, At("2026-09-01")).ok());
  const std::string before = Dump();
  EXPECT_EQ(store_->SetConsent("s9", true, "s9", At("2026-09-02")).code(), Code::kRefused);  // a minor for themself
  EXPECT_EQ(store_->SetConsent("s9", true, "m1", At("2026-09-02")).code(), Code::kRefused);  // a stranger
  EXPECT_EQ(store_->SetConsent("s8", true, "c1", At("2026-09-02")).code(), Code::kRefused);  // no guardian registered
  EXPECT_EQ(Dump(), before);
  EXPECT_TRUE(store_->SetConsent("s9", true, "g9", At("2026-09-02")).ok());
  EXPECT_TRUE(store_->SetConsent("a1", true, "a1", At("2026-09-02")).ok());
  EXPECT_TRUE(store_->SetConsent("s9", false, "s9", At("2026-09-03")).ok());  // anyone may withdraw their own
  // On the 18th birthday the person signs for themself.
  EXPECT_TRUE(store_->SetConsent("s9", true, "s9", At("2032-01-10")).ok());
}

TEST_P(StorageTest, Init_ChangedFileUnderTheSameVersionIsRefused) {
  namespace fs = std::filesystem;
  fs::path dir = fs::path(::testing::TempDir()) / ("mf_changed_" + GetParam() + std::to_string(getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  fs::copy(testing::SourcePath("workflows"), dir);
  std::string text = testing::ReadText((dir / "monitoring.yaml").string());
  text.replace(text.find("title: Мониторинг"), 17, "title: Мониторинг (изменён)");
  std::ofstream(dir / "monitoring.yaml") << text;
  auto changed = Catalog::Load({dir.string()}, testing::Options());
  ASSERT_TRUE(changed.ok());
  const std::string before = Dump();
  auto st = store_->Init(changed, At("2026-09-02"), nullptr);
  EXPECT_EQ(st.code(), Code::kBadInput);
  EXPECT_NE(st.message().find("bump 'version:'"), std::string::npos) << st.message();
  EXPECT_EQ(Dump(), before);
  // With the version bumped, the new version is registered beside the old one.
  text.replace(text.find("version: 1"), 10, "version: 2");
  std::ofstream(dir / "monitoring.yaml") << text;
  std::vector<std::string> registered;
  ASSERT_TRUE(store_->Init(Catalog::Load({dir.string()}, testing::Options()), At("2026-09-02"), &registered).ok());
  EXPECT_EQ(registered, std::vector<std::string>{"monitoring v2"});
  fs::remove_all(dir);
}

TEST_P(StorageTest, Init_ADatabaseNewerThanTheBinaryIsRefused) {
  {
    soci::session s = GetParam() == "sqlite" ? soci::session(soci::sqlite3, "db=" + path_)
                                             : soci::session(soci::postgresql, PostgresConnectionString(url_));
    s << "INSERT INTO schema_version (version) VALUES (99)";
  }
  auto st = store_->Init(testing::Shipped(), At("2026-09-02"), nullptr);
  EXPECT_EQ(st.code(), Code::kBadInput);
  EXPECT_NE(st.message().find("newer than this mentorflow"), std::string::npos);
}

TEST_P(StorageTest, Concurrency_FourProcessesLoseNoUpdate) {
  InstanceRecord rec;
  Refusal r;
  ASSERT_TRUE(store_->Start("information_support", {}, "", "c1", At("2026-09-01"), &rec, &r).ok());
  const std::string id = rec.id;
  std::atomic<int> accepted{0}, conflicts{0}, other{0};
  std::vector<std::thread> procs;
  for (int p = 0; p < 4; ++p)
    procs.emplace_back([&, p] {
      for (int i = 0; i < 15; ++i) {
        auto run = testing::RunCli("--db '" + url_ + "' --now 2026-09-0" + std::to_string(2 + p) + " --as c1 send " + id +
                                   " publish --set last_url=u" + std::to_string(p) + "_" + std::to_string(i) +
                                   " --set channel=site");
        if (run.code == 0) ++accepted;
        else if (run.code == 4) ++conflicts;
        else ++other;
      }
    });
  for (auto& t : procs) t.join();
  EXPECT_EQ(other.load(), 0);
  EXPECT_EQ(accepted.load() + conflicts.load(), 60);
  std::vector<HistoryRecord> h;
  ASSERT_TRUE(store_->History(id, &h).ok());
  EXPECT_EQ(static_cast<int>(h.size()), 1 + accepted.load()) << "an accepted event is missing from the history";
  ASSERT_TRUE(store_->Show(id, &rec).ok());
  EXPECT_EQ(rec.version, 1 + accepted.load());
  RecordProperty("accepted", accepted.load());
  RecordProperty("conflicts", conflicts.load());
}

TEST_P(StorageTest, CrashSafety_KilledWriterLeavesAConsistentDatabase) {
  InstanceRecord rec;
  Refusal r;
  ASSERT_TRUE(store_->Start("information_support", {}, "", "c1", At("2026-09-01"), &rec, &r).ok());
  const std::string id = rec.id;
  std::mt19937 rng(7);
  for (int round = 0; round < 4; ++round) {
    pid_t child = fork();
    ASSERT_GE(child, 0);
    if (child == 0) {  // the writer: thousands of events, until killed
      Status st;
      auto store = Store::Open(url_, &st);
      InstanceRecord out;
      Refusal rf;
      for (int i = 0; i < 100000; ++i)
        store->Send(id, "publish", {{"last_url", "r" + std::to_string(round) + "_" + std::to_string(i)}, {"channel", "site"}},
                    "c1", At("2026-09-02"), &out, &rf);
      _exit(0);
    }
    usleep(200000 + rng() % 400000);
    kill(child, SIGKILL);
    int status = 0;
    waitpid(child, &status, 0);
    ASSERT_TRUE(WIFSIGNALED(status));
  }
  if (GetParam() == "sqlite") {
    soci::session s(soci::sqlite3, "db=" + path_);
    std::string check;
    s << "PRAGMA integrity_check", soci::into(check);
    EXPECT_EQ(check, "ok");
  }
  // Replaying the history gives the stored state: every accepted event is in
  // the history, and nothing is in the instance that the history lacks.
  Status st;
  auto fresh = Store::Open(url_, &st);
  ASSERT_TRUE(fresh->Show(id, &rec).ok());
  std::vector<HistoryRecord> h;
  ASSERT_TRUE(fresh->History(id, &h).ok());
  EXPECT_GT(h.size(), 10u) << "the writer made too little progress to test anything";
  EXPECT_EQ(static_cast<long>(h.size()), rec.version);
  std::string last_url;
  for (const auto& entry : h) {
    auto changes = nlohmann::json::parse(entry.changes_json);
    for (const auto& c : changes)
      if (c["field"] == "last_url") last_url = c["after"].get<std::string>();
  }
  auto fields = nlohmann::json::parse(rec.fields_json);
  EXPECT_EQ(fields["last_url"].get<std::string>(), last_url);
  EXPECT_EQ(rec.state, h.back().to);
  RecordProperty("events", static_cast<int>(h.size()));
}

INSTANTIATE_TEST_SUITE_P(Backends, StorageTest, ::testing::Values("sqlite", "postgresql"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace mentorflow
