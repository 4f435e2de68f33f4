// Runs every scenario file (tests/scenarios/*.yaml and the demo's school
// year) on the real store, on SQLite and on PostgreSQL.
#include "app/scenario.h"

#include <gtest/gtest.h>

#include <fstream>

#include "storage/store.h"
#include "tests/test_db.h"
#include "tests/test_support.h"

namespace mentorflow {
namespace {

std::string Backend(const std::string& b) { return b; }

class Scenario : public ::testing::TestWithParam<std::tuple<std::string, std::string>> {
 protected:
  void SetUp() override {
    if (std::get<1>(GetParam()) == "postgresql" && testing::PostgresAdminUrl().empty()) {
      if (std::getenv("CI") && std::string(std::getenv("CI")) == "true") FAIL() << "CI=true: PostgreSQL tests must run";
      GTEST_SKIP() << "MENTORFLOW_TEST_PG not set";
    }
  }
};

TEST_P(Scenario, EveryExpectationHolds) {
  const auto& [file, backend] = GetParam();
  testing::TestDatabase db(backend, file.substr(file.find_last_of('/') + 1));
  ASSERT_TRUE(db.available()) << db.why_not();
  auto report = RunScenarioFile(file, testing::Shipped(), {db.url(), testing::SourcePath("templates"), ""});
  EXPECT_GT(report.steps, 0);
  for (const auto& f : report.failures) ADD_FAILURE() << f.ToString();
}

std::vector<std::string> AllScenarios() {
  auto files = testing::FilesIn("tests/scenarios");
  for (const auto& f : testing::FilesIn("demo")) files.push_back(f);
  return files;
}

INSTANTIATE_TEST_SUITE_P(Files, Scenario,
                         ::testing::Combine(::testing::ValuesIn(AllScenarios()),
                                            ::testing::Values(Backend("sqlite"), Backend("postgresql"))),
                         [](const auto& info) {
                           std::string n = std::get<0>(info.param);
                           n = n.substr(n.find_last_of('/') + 1);
                           return n.substr(0, n.find('.')) + "_" + std::get<1>(info.param);
                         });

std::string WriteTemp(const std::string& name, const std::string& text) {
  std::string path = ::testing::TempDir() + "/" + name;
  std::ofstream(path) << text;
  return path;
}

ScenarioReport RunOnSqlite(const std::string& path, const std::string& name) {
  testing::TestDatabase db("sqlite", name);
  return RunScenarioFile(path, testing::Shipped(), {db.url(), testing::SourcePath("templates"), ""});
}

TEST(Scenario_Runner, AFailedExpectationIsReportedWithItsLine) {
  auto path = WriteTemp("wrong.yaml",
                        "people:\n  d1: {roles: [director]}\n  c1: {roles: [curator]}\n  m1: {roles: [mentor]}\n"
                        "  s1: {roles: [mentee]}\nsteps:\n"
                        "  - {at: 2026-09-01, as: c1, start: monitoring, name: p,\n"
                        "     expect: submitted}\n");
  auto report = RunOnSqlite(path, "wrong");
  ASSERT_EQ(report.failures.size(), 1u);
  EXPECT_EQ(report.failures[0].mark.line, 7);
  EXPECT_NE(report.failures[0].message.find("expected state 'submitted', got 'collecting'"), std::string::npos);
  std::remove(path.c_str());
}

TEST(Scenario_Runner, AnUnknownKeyIsAnErrorNamingItsLine) {
  auto path = WriteTemp("misspelt.yaml",
                        "people:\n  d1: {roles: [director]}\n  c1: {roles: [curator]}\nsteps:\n"
                        "  - {at: 2026-09-01, as: c1, start: monitoring, name: m}\n"
                        "  - {tick: 2026-12-21, fierd: 1}\n");
  auto report = RunOnSqlite(path, "misspelt");
  ASSERT_EQ(report.failures.size(), 1u);
  EXPECT_EQ(report.failures[0].mark.line, 6);
  EXPECT_NE(report.failures[0].message.find("unknown key 'fierd'"), std::string::npos) << report.failures[0].message;
  std::remove(path.c_str());
}

TEST(Scenario_Runner, AWrongFieldOrUnknownInstanceIsReportedWithItsLine) {
  auto path = WriteTemp("fields.yaml",
                        "people:\n  d1: {roles: [director]}\n  c1: {roles: [curator]}\nsteps:\n"
                        "  - {at: 2026-12-01, as: c1, start: monitoring, name: m}\n"
                        "  - {expect_fields: {m: {period: 2026-12-20, report_url: \"\"}}}\n"
                        "  - {expect_fields: {m: {period: 2027-05-20}, nobody: {period: x}}}\n");
  auto report = RunOnSqlite(path, "fields");
  ASSERT_EQ(report.failures.size(), 2u);
  EXPECT_EQ(report.failures[0].mark.line, 7);
  EXPECT_NE(report.failures[0].message.find("m.period: expected '2027-05-20', got '2026-12-20'"), std::string::npos)
      << report.failures[0].message;
  EXPECT_NE(report.failures[1].message.find("no instance 'nobody'"), std::string::npos) << report.failures[1].message;
  std::remove(path.c_str());
}

// People are registered by the director, as on a real database: a scenario
// without one says so instead of registering people with no actor.
TEST(Scenario_Runner, AScenarioWithoutADirectorSaysWhoIsMissing) {
  auto path = WriteTemp("nodirector.yaml",
                        "people:\n  c1: {roles: [curator]}\nsteps:\n"
                        "  - {at: 2026-09-01, as: c1, start: monitoring, name: m}\n");
  auto report = RunOnSqlite(path, "nodirector");
  ASSERT_EQ(report.failures.size(), 1u);
  EXPECT_NE(report.failures[0].message.find("needs a director"), std::string::npos) << report.failures[0].message;
  std::remove(path.c_str());
}

// A tick that jumps from October to June leaves the same history as daily
// ticks: every deadline fires in date order, dated at its own moment.
TEST(Scenario_Runner, AJumpingTickGivesTheSameHistoryAsDailyTicks) {
  auto history = [](bool daily) {
    testing::TestDatabase db("sqlite", daily ? "daily" : "jump");
    Status st;
    auto store = Store::Open(db.url(), &st, {testing::SourcePath("templates")});
    EXPECT_TRUE(store);
    auto at = [](const char* d) { return Now::At(*ParseLocalTime(d, "Europe/Saratov"), "Europe/Saratov"); };
    Store::InitOptions init;
    init.zone = "Europe/Saratov";
    init.director = {"d1", "Директор", {"director"}, "", "", ""};
    EXPECT_TRUE(store->Init(testing::Shipped(), at("2026-10-01"), nullptr, init).ok());
    EXPECT_TRUE(store->AddPerson({"c1", "Куратор", {"curator"}, "", "", ""}, "d1", at("2026-10-01")).ok());
    InstanceRecord mon, rep, info;
    Refusal r;
    EXPECT_TRUE(store->Start("monitoring", {}, "", "c1", at("2026-10-01"), &mon, &r).ok());
    EXPECT_TRUE(store->Start("annual_report", {{"year", "2026"}}, "", "c1", at("2026-10-01"), &rep, &r).ok());
    EXPECT_TRUE(store->Start("information_support", {}, "", "c1", at("2026-10-01"), &info, &r).ok());
    if (daily) {
      for (Date d = *ParseDate("2026-10-02"); d <= *ParseDate("2027-06-01"); d += date::days{1}) {
        Store::TickReport t;
        EXPECT_TRUE(store->Tick(at(FormatDate(d).c_str()), &t).ok());
      }
    } else {
      Store::TickReport t;
      EXPECT_TRUE(store->Tick(at("2027-06-01"), &t).ok());
      EXPECT_GE(t.fired.size(), 3u);
      for (size_t i = 1; i < t.fired.size(); ++i) EXPECT_LE(t.fired[i - 1].at, t.fired[i].at);  // date order
    }
    std::string out;
    for (const auto& id : {mon.id, rep.id, info.id}) {
      std::vector<HistoryRecord> h;
      EXPECT_TRUE(store->History(id, &h).ok());
      for (const auto& e : h) out += id + " " + e.at + " " + e.actor + " " + e.event + " " + e.from + "->" + e.to + "\n";
    }
    std::vector<ReminderRecord> rs;
    EXPECT_TRUE(store->Reminders({}, &rs).ok());
    for (const auto& x : rs) out += x.to + " " + x.kind + " " + x.instance + " " + x.on + " " + x.status + "\n";
    return out;
  };
  const std::string daily = history(true), jump = history(false);
  EXPECT_NE(daily.find("2026-12-20T20:00:00Z system overdue collecting->overdue"), std::string::npos) << daily;
  EXPECT_EQ(daily, jump);
}

}  // namespace
}  // namespace mentorflow
