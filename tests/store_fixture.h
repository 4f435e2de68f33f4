// A database on one backend, set up through the command line as a user
// would: init in Europe/Saratov, a director, two curators with e-mail
// addresses. For the tests of tick, the outbox and delivery.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "tests/test_db.h"
#include "tests/test_support.h"

namespace mentorflow::testing {

using CliRun = ::mentorflow::testing::Run;

class CliDatabase : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (GetParam() == "postgresql" && PostgresAdminUrl().empty()) {
      if (std::getenv("CI") && std::string(std::getenv("CI")) == "true") FAIL() << "CI=true: PostgreSQL tests must run";
      GTEST_SKIP() << "MENTORFLOW_TEST_PG not set";
    }
    db_ = std::make_unique<TestDatabase>(GetParam(), ::testing::UnitTest::GetInstance()->current_test_info()->name());
    ASSERT_TRUE(db_->available()) << db_->why_not();
    ASSERT_EQ(Db("init --zone Europe/Saratov --institution 'Центр «Радуга»'" MF_INSTITUTION_ADDRESS
                 " --director d1 --name 'Ольга Карпова'",
                 "2026-09-01").code, 0);
    ASSERT_EQ(Db("person add c1" MF_PAPERS " --as d1 --name 'Мария Петрова' --role curator --email c1@example.org", "2026-09-01").code, 0);
    ASSERT_EQ(Db("person add c2" MF_PAPERS " --as d1 --name 'Иван Сидоров' --role curator --email c2@example.org", "2026-09-01").code, 0);
  }
  // Brings a programme to its pairs stage (the director d1, curator c1), as a
  // pair may be proposed only then. Returns the programme's id.
  std::string ProgrammeAtWork(const std::string& now = "2026-09-01") {
    auto r = Db("start programme --as d1 --set year=2026/2027", now);
    EXPECT_EQ(r.code, 0) << r.err;
    const std::string id = r.out.substr(0, r.out.find('\n'));
    for (const std::string& step :
         {"send " + id + " approve_regulation --as d1", "send " + id + " appoint_curator --set curator=c1 --as d1",
          "doc sign " + id + ":roadmap --as d1", "send " + id + " start_mentee_bank --as c1",
          "send " + id + " mentee_bank_ready --as c1", "send " + id + " mentor_bank_ready --as c1",
          "send " + id + " training_done --as c1"}) {
      auto s = Db(step, now);
      EXPECT_EQ(s.code, 0) << step << ": " << s.err;
    }
    return id;
  }
  // A season of the regional selection (it_region_season, by the curator
  // c1) with the dates of tests/scenarios/it_region_selection.yaml; its id.
  std::string ItRegionSeason(const std::string& now) {
    auto r = Db("start it_region_season --as c1 --set season=2027/2028 --set registration_closes=2027-07-16"
                " --set interviews_from=2027-07-24 --set interviews_to=2027-07-30"
                " --set intake_starts=2027-08-21T09:00 --set intake_ends=2027-08-25T18:00"
                " --set project_starts=2028-07-03T09:00 --set project_ends=2028-07-07T18:00",
                now);
    EXPECT_EQ(r.code, 0) << r.err;
    return r.out.substr(0, r.out.find('\n'));
  }
  // People PREFIX{first}..PREFIX{last} of age in `role` (named "TITLE k"),
  // registered by d1, each with their own consent.
  // People prefix{first..last} holding `role`, born 2008, each with their
  // consent for `purpose` (a workflow's `purpose:`).
  void PeopleWithConsent(const std::string& prefix, const std::string& role, const std::string& title, int first,
                         int last, const std::string& now, const std::string& purpose = "mentoring") {
    for (int k = first; k <= last; ++k) {
      const std::string id = prefix + std::to_string(k);
      ASSERT_EQ(Db("person add " + id + MF_PAPERS " --as d1 --name '" + title + " " + std::to_string(k) + "' --role " + role +
                       " --birth 2008-01-01",
                   now)
                    .code,
                0);
      ASSERT_EQ(Db("consent sign " + id + " --as " + id + " --purpose " + purpose, now).code, 0);
    }
  }
  // The coordinator co1 and candidates k0..k{n-1} of age, each with their
  // consent for the selection.
  void ItRegionCandidates(int n, const std::string& now) {
    ASSERT_EQ(Db("person add co1" MF_PAPERS " --as d1 --name 'Координатор' --role coordinator --birth 1980-01-01", now).code, 0);
    PeopleWithConsent("k", "candidate", "Кандидат", 0, n - 1, now, "selection");
  }
  // Candidate k registers (by co1) under `season` from `municipality`.
  CliRun ItRegionRegister(const std::string& season, int k, const std::string& municipality, const std::string& now,
                          const std::string& options = "") {
    return Db(options + "start it_region_selection --as co1 --parent " + season + " --set candidate=k" +
                  std::to_string(k) + " --set coordinator=co1 --set municipality=" + municipality +
                  " --set school=СШ --set grade=9 --set direction=web",
              now);
  }
  // The individual plan of `pair` drafted by its mentor with one item and
  // agreed by the curator (signed by both): a pair goes to the director
  // only with it (issue 26). Returns the plan's id.
  std::string AgreedPlan(const std::string& pair, const std::string& mentor, const std::string& mentee,
                         const std::string& now, const std::string& curator = "c1") {
    auto r = Db("start individual_plan --as " + mentor + " --parent " + pair + " --set mentor=" + mentor +
                    " --set mentee=" + mentee,
                now);
    EXPECT_EQ(r.code, 0) << r.err;
    const std::string plan = r.out.substr(0, r.out.find('\n'));
    for (const std::string& step :
         {"send " + plan + " add_item --as " + mentor + " --set 'title=Знакомство, цели' --set due=2030-01-01",
          "send " + plan + " submit --as " + mentor, "doc sign " + plan + ":plan --as " + mentor,
          "doc sign " + plan + ":plan --as " + curator, "send " + plan + " agree --as " + curator}) {
      auto s = Db(step, now);
      EXPECT_EQ(s.code, 0) << step << ": " << s.err;
    }
    return plan;
  }
  CliRun Db(const std::string& args, const std::string& now) {
    return RunCli("--db '" + db_->url() + "' --now " + now + " " + args);
  }
  nlohmann::json Json(const std::string& args, const std::string& now) {
    auto r = Db(args + " --json", now);
    EXPECT_EQ(r.code, 0) << args << ": " << r.err << r.out;
    return nlohmann::json::parse(r.out.empty() ? "null" : r.out);
  }
  std::unique_ptr<TestDatabase> db_;
};

}  // namespace mentorflow::testing
